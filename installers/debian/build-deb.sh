#!/usr/bin/env bash
# Build the csos-desktop .deb from a PyInstaller bundle (dist/csos-desktop).
# Usage: build-deb.sh BUNDLE_DIR VERSION OUT_DIR [EXTRA_MIGRATION.sql]
# EXTRA_MIGRATION is for the package test only: it makes an "upgrade" package whose
# bundle carries one more store migration, without building the bundle twice.
set -euo pipefail
bundle=$1 version=$2 out=$3 extra=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
inst=$(dirname "$here")
arch=$(dpkg --print-architecture)
[ -x "$bundle/csos" ] && [ -x "$bundle/csos-gui" ] || { echo "no bundle in $bundle (run make bundle)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
         "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/doc/csos-desktop"
cp -a "$bundle" "$root/opt/csos-desktop"
if [ -n "$extra" ]; then
  cp "$extra" "$root/opt/csos-desktop/_internal/csos_desktop/store/migrations/"
fi
for exe in csos csos-gui; do
  # Wrappers, not symlinks: the bundle finds its libraries relative to the real binary.
  printf '#!/bin/sh\nexec /opt/csos-desktop/%s "$@"\n' "$exe" > "$root/usr/bin/$exe"
  chmod 0755 "$root/usr/bin/$exe"
done
install -m 0644 "$inst/linux/csos-desktop.desktop" "$root/usr/share/applications/"
install -m 0644 "$inst/linux/csos-desktop.svg" "$root/usr/share/icons/hicolor/scalable/apps/"
install -m 0644 "$inst/policy/policy.toml.example" "$root/usr/share/doc/csos-desktop/"
printf 'CSOS Desktop. Proprietary; see the project licence.\n' \
  > "$root/usr/share/doc/csos-desktop/copyright"
install -m 0755 "$here/postinst" "$here/postrm" "$root/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
  "$here/control.in" > "$root/DEBIAN/control"
mkdir -p "$out"
deb="$out/csos-desktop_${version}_${arch}.deb"
# zstd: several times faster than xz on this bundle for a few % more size; dpkg >= 1.21.18.
dpkg-deb --root-owner-group -Zzstd -z6 --build "$root" "$deb" >/dev/null
echo "$deb"
