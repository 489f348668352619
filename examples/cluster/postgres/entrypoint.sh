#!/bin/sh
# Creates the cluster in /data/pg on first start, with a superuser and
# password from POSTGRES_USER and POSTGRES_PASSWORD and a database of the
# user's name, then runs the server in the foreground on every address.
set -eu
export PGDATA=/data/pg TZ=UTC
user=${POSTGRES_USER:-concord}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	printf '%s\n' "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" >/tmp/pwfile
	@BINDIR@/initdb -D "$PGDATA" -U "$user" --pwfile=/tmp/pwfile --no-locale -E UTF8 \
		--auth-local=trust --auth-host=scram-sha-256 >/dev/null 2>&1
	: >/tmp/pwfile
	echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
	# The database named after the user, made in single-user mode.
	echo "CREATE DATABASE \"$user\";" | @BINDIR@/postgres --single -D "$PGDATA" -j -c unix_socket_directories=/tmp postgres >/dev/null
fi
exec @BINDIR@/postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp -c jit=off
