-- Helper functions of revision 0004 (row-level security), read by
-- 0004_row_level_security.py, which fills in the names in braces and runs each statement
-- (statements end at a line holding only "-- ;;").
--
-- Every SECURITY DEFINER function pins search_path to pg_catalog, pg_temp and names
-- tables with their schema, so a caller cannot slip in a look-alike table or operator.
-- They are owned by the definer role, the only role whose policies read users and
-- permissions unfiltered; they say something about the caller only (session_user).

CREATE OR REPLACE FUNCTION {s}.filemeta_current_user_id() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  -- The caller's users row, if it is enabled and the connection comes from its address.
  SELECT u.id FROM {s}.users AS u
  WHERE u.login = session_user AND NOT u.disabled AND {client} <<= u.ip_address
$$;
-- ;;

CREATE OR REPLACE FUNCTION {s}.filemeta_is_admin() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM {s}.users AS u
    WHERE u.login = session_user AND NOT u.disabled AND {client} <<= u.ip_address
      AND u.role = 'admin')
$$;
-- ;;

CREATE OR REPLACE FUNCTION {s}.filemeta_library_is_empty() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT NOT EXISTS (SELECT 1 FROM {s}.users)
$$;
-- ;;

CREATE OR REPLACE FUNCTION {s}.filemeta_may(p_file uuid, p_needed text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  -- Levels nest: delete includes write, write includes read.
  SELECT {s}.filemeta_is_admin() OR EXISTS (
    SELECT 1 FROM {s}.permissions AS p
    WHERE p.file_id = p_file AND p.user_id = {s}.filemeta_current_user_id()
      AND p.access_type = ANY (CASE p_needed
        WHEN 'read' THEN ARRAY['read', 'write', 'delete']
        WHEN 'write' THEN ARRAY['write', 'delete']
        WHEN 'delete' THEN ARRAY['delete'] END))
$$;
-- ;;

CREATE OR REPLACE FUNCTION {s}.filemeta_whoami()
RETURNS TABLE (login text, registered boolean, disabled boolean, role text,
               registered_address inet, client_address inet, address_ok boolean,
               library_empty boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  -- Open to every login: it tells the caller about themselves only, so an unregistered
  -- login or a connection from elsewhere gets a message in plain words.
  SELECT session_user::text, u.id IS NOT NULL, coalesce(u.disabled, false), u.role::text,
         u.ip_address, {client}, coalesce({client} <<= u.ip_address, false),
         NOT EXISTS (SELECT 1 FROM {s}.users)
  FROM (SELECT 1) AS one LEFT JOIN {s}.users AS u ON u.login = session_user
$$;
-- ;;

CREATE OR REPLACE FUNCTION {s}.filemeta_group_roles()
RETURNS TABLE (kind text, role_name text)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  -- A copy made with CREATE DATABASE ... TEMPLATE keeps using its template's roles:
  -- the names live here, not in a rule about the database name.
  VALUES ('owner', {owner_lit}), ('admin', {admin_lit}), ('guest', {guest_lit}),
         ('definer', {definer_lit})
$$;
-- ;;

CREATE OR REPLACE FUNCTION {s}.filemeta_sync_login(p_login text, p_verifier text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  u record;
  r record;
  created boolean := false;
  marker text := format('FileMeta login of database %s', current_database());
  wanted text;
  other text;
BEGIN
  -- Makes the login role of a users row match it: it exists, is in the group of its
  -- FileMeta role (none while disabled) and, if given, has this password verifier.
  IF NOT {s}.filemeta_is_admin() THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = 'Only a FileMeta admin may manage login roles.';
  END IF;
  SELECT * INTO u FROM {s}.users WHERE login = p_login;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'no_data_found',
      MESSAGE = format('No FileMeta user has the login %s.', p_login);
  END IF;
  IF p_login IN ({owner_lit}, {admin_lit}, {guest_lit}, {definer_lit})
     OR p_login LIKE 'pg\_%' THEN
    RAISE EXCEPTION USING ERRCODE = 'reserved_name',
      MESSAGE = format('%s is a role name FileMeta or PostgreSQL reserves.', p_login);
  END IF;
  SELECT * INTO r FROM pg_roles WHERE rolname = p_login;
  IF FOUND AND (r.rolsuper OR r.rolbypassrls) THEN
    RETURN 'superuser';  -- row-level security never applies to it: nothing to grant
  END IF;
  IF FOUND AND NOT r.rolcanlogin THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_role_specification',
      MESSAGE = format('The role %s exists but cannot log in.', p_login);
  END IF;
  IF NOT FOUND THEN
    EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', p_login);
    -- Only roles carrying this mark get a password from FileMeta or are dropped by it:
    -- a login that existed before (the DBA's, another library's) is never changed.
    EXECUTE format('COMMENT ON ROLE %I IS %L', p_login, marker);
    created := true;
  END IF;
  IF p_verifier IS NOT NULL THEN
    IF NOT created AND coalesce(shobj_description(
         (SELECT oid FROM pg_roles WHERE rolname = p_login), 'pg_authid'), '') <> marker THEN
      RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = format(
        'The login %s existed before FileMeta added it: change its password with psql.',
        p_login);
    END IF;
    -- A verifier, never the password: statement logs must not hold passwords.
    IF p_verifier !~ '^SCRAM-SHA-256\$' THEN
      RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
        MESSAGE = 'A password must be sent as a SCRAM-SHA-256 verifier.';
    END IF;
    EXECUTE format('ALTER ROLE %I PASSWORD %L', p_login, p_verifier);
  END IF;
  wanted := CASE WHEN u.disabled THEN NULL
                 WHEN u.role = 'admin' THEN {admin_lit}
                 ELSE {guest_lit} END;
  FOREACH other IN ARRAY ARRAY[{admin_lit}, {guest_lit}] LOOP
    IF other IS DISTINCT FROM wanted AND EXISTS (
         SELECT 1 FROM pg_auth_members AS m
         WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = other)
           AND m.member = (SELECT oid FROM pg_roles WHERE rolname = p_login)) THEN
      EXECUTE format('REVOKE %I FROM %I', other, p_login);
    END IF;
  END LOOP;
  IF wanted IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM pg_auth_members AS m
       WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = wanted)
         AND m.member = (SELECT oid FROM pg_roles WHERE rolname = p_login)) THEN
    EXECUTE format('GRANT %I TO %I', wanted, p_login);
  END IF;
  RETURN CASE WHEN created THEN 'created' ELSE 'updated' END;
END
$$;
-- ;;

CREATE OR REPLACE FUNCTION {s}.filemeta_drop_login(p_login text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r record;
  other text;
BEGIN
  -- Once its users row is gone: out of our groups; dropped if FileMeta created it here.
  IF NOT {s}.filemeta_is_admin() THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = 'Only a FileMeta admin may manage login roles.';
  END IF;
  IF EXISTS (SELECT 1 FROM {s}.users WHERE login = p_login) THEN
    RAISE EXCEPTION USING ERRCODE = 'object_in_use',
      MESSAGE = format('%s is still a FileMeta user: remove the user first.', p_login);
  END IF;
  SELECT * INTO r FROM pg_roles WHERE rolname = p_login;
  IF NOT FOUND THEN
    RETURN 'absent';
  END IF;
  IF r.rolsuper OR r.rolbypassrls THEN
    RETURN 'kept';
  END IF;
  FOREACH other IN ARRAY ARRAY[{admin_lit}, {guest_lit}] LOOP
    IF EXISTS (SELECT 1 FROM pg_auth_members AS m
               WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = other)
                 AND m.member = r.oid) THEN
      EXECUTE format('REVOKE %I FROM %I', other, p_login);
    END IF;
  END LOOP;
  IF coalesce(shobj_description(r.oid, 'pg_authid'), '')
     <> format('FileMeta login of database %s', current_database()) THEN
    RETURN 'kept';
  END IF;
  BEGIN
    EXECUTE format('DROP ROLE %I', p_login);
  EXCEPTION WHEN dependent_objects_still_exist THEN
    RETURN 'kept';  -- it owns something somewhere: that is the DBA's to sort out
  END;
  RETURN 'dropped';
END
$$;
-- ;;

CREATE OR REPLACE FUNCTION {s}.filemeta_guard_soft_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- Policies cannot compare a row before and after an UPDATE; this trigger does: moving
  -- a file to or from the trash needs delete, not only write. SECURITY INVOKER so that
  -- row_security_active() describes the caller: superusers are neither refused nor
  -- slowed down.
  IF row_security_active(TG_RELID) AND NOT {s}.filemeta_may(OLD.id, 'delete') THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = 'Moving a file to or from the trash needs delete access to it.';
  END IF;
  RETURN NEW;
END
$$;
