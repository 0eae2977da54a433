# Sourced by .ci/run: PostgreSQL from Debian's package, on loopback, for the
# web store tests. Idempotent: works with the cluster running or stopped.
pgver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | grep -q "^$pgver main"; then pg_createcluster "$pgver" main >/dev/null; fi
pg_ctlcluster "$pgver" main start 2>/dev/null || pg_ctlcluster "$pgver" main status >/dev/null
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'httpsguard'\"" | grep -q 1 ||
	su postgres -c "psql -qc \"CREATE ROLE httpsguard LOGIN PASSWORD 'httpsguard'\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname = 'httpsguard_test'\"" | grep -q 1 ||
	su postgres -c "createdb -O httpsguard httpsguard_test"
export HTTPSGUARD_TEST_POSTGRES_DSN='postgres://httpsguard:httpsguard@127.0.0.1:5432/httpsguard_test?sslmode=disable'
