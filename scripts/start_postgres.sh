#!/usr/bin/env bash
# Start the machine's PostgreSQL cluster (if it is not running) and create the test role and
# database. Idempotent. Used by `make test` and .ci/run; the tests read CLV_PG_* (see Makefile).
set -euo pipefail
PG_USER=${CLV_PG_USER:-clv}
PG_PASSWORD=${CLV_PG_PASSWORD:-clv}
PG_DATABASE=${CLV_PG_DATABASE:-clv_ci}
PG_PORT=${CLV_PG_PORT:-5432}

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "start_postgres: installing PostgreSQL from Debian's packages" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "start_postgres: PostgreSQL is not installed (need pg_ctlcluster)" >&2
        exit 1
    fi
fi

version=$(ls /etc/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
    pg_ctlcluster "$version" main start
fi

as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else eval "$1"; fi; }
for _ in $(seq 1 30); do
    as_postgres "psql -p $PG_PORT -tAc 'select 1'" >/dev/null 2>&1 && break
    sleep 1
done
as_postgres "psql -p $PG_PORT -v ON_ERROR_STOP=1 -q" <<SQL
do \$\$ begin
    if not exists (select from pg_roles where rolname = '$PG_USER') then
        create role $PG_USER login password '$PG_PASSWORD' createdb;
    end if;
end \$\$;
SQL
if ! as_postgres "psql -p $PG_PORT -tAc \"select 1 from pg_database where datname = '$PG_DATABASE'\"" | grep -q 1; then
    as_postgres "createdb -p $PG_PORT -O $PG_USER $PG_DATABASE"
fi
echo "start_postgres: PostgreSQL $version on port $PG_PORT, database $PG_DATABASE, role $PG_USER"
