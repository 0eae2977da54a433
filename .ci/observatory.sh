# Sourced by .ci/run: installs the MDN HTTP Observatory outside the repository
# so the cross-check tests can compare httpsguard with the real thing. Its
# install script downloads files that cannot be fetched here, so scripts are
# skipped and the two data files it would write are created empty.
OBS="${HTTPSGUARD_OBSERVATORY_PREFIX:-$HOME/.cache/httpsguard-observatory}"
npm install --silent --no-audit --no-fund --prefix "$OBS" --ignore-scripts "@mdn/mdn-http-observatory@${OBSERVATORY_VERSION:-1.4.8}"
P="$OBS/node_modules/@mdn/mdn-http-observatory"
mkdir -p "$P/conf"
echo '{}' >"$P/conf/hsts-preload.json"
echo '[]' >"$P/conf/tld-list.json"
export HTTPSGUARD_OBSERVATORY_DIR="$P"
