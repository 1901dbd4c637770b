#!/usr/bin/env bash
# Refetches the console's pinned browser libraries from the npm registry into assets/vendor and
# checks every file against assets/vendor/SHA256SUMS, so `go build` never needs Node and a changed
# upstream file cannot slip in. Run through `make vendor-console`. To move to a new version: change
# the pin below, run with UPDATE_SUMS=1, review the diff, commit.
set -euo pipefail
cd "$(dirname "$0")"

LEAFLET=leaflet@1.9.4
MARKERCLUSTER=leaflet.markercluster@1.5.3
HTMX=htmx.org@2.0.11

out=assets/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$LEAFLET" "$MARKERCLUSTER" "$HTMX" >/dev/null)
for t in "$tmp"/*.tgz; do
  mkdir -p "$tmp/x/$(basename "$t" .tgz)"
  tar xzf "$t" -C "$tmp/x/$(basename "$t" .tgz)"
done
leaflet=$tmp/x/leaflet-1.9.4/package/dist
cluster=$tmp/x/leaflet.markercluster-1.5.3/package/dist
htmx=$tmp/x/htmx.org-2.0.11/package/dist

rm -rf "$out/leaflet" "$out/markercluster" "$out/htmx"
mkdir -p "$out/leaflet/images" "$out/markercluster" "$out/htmx"
cp "$leaflet/leaflet.js" "$leaflet/leaflet.css" "$out/leaflet/"
cp "$leaflet/images/layers.png" "$leaflet/images/layers-2x.png" "$leaflet/images/marker-icon.png" \
   "$leaflet/images/marker-icon-2x.png" "$leaflet/images/marker-shadow.png" "$out/leaflet/images/"
cp "$(dirname "$leaflet")/LICENSE" "$out/leaflet/LICENSE"
cp "$cluster/leaflet.markercluster.js" "$cluster/MarkerCluster.css" "$cluster/MarkerCluster.Default.css" "$out/markercluster/"
cp "$(dirname "$cluster")/MIT-LICENCE.txt" "$out/markercluster/LICENSE"
cp "$htmx/htmx.min.js" "$out/htmx/"
cp "$(dirname "$htmx")/LICENSE" "$out/htmx/LICENSE"

chmod -R u=rwX,go=rX "$out"
cd "$out"
if [ "${UPDATE_SUMS:-}" = 1 ]; then
  find leaflet markercluster htmx -type f | LC_ALL=C sort | xargs sha256sum > SHA256SUMS
  echo "wrote $out/SHA256SUMS"
else
  sha256sum --quiet -c SHA256SUMS
  echo "vendored files match $out/SHA256SUMS"
fi
