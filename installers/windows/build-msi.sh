#!/usr/bin/env bash
# Build the CSOS Desktop MSI with wixl (Debian: msitools, wixl) from the WiX source
# installers/windows/csos-desktop.wxs over a PyInstaller one-folder bundle.
# Usage: build-msi.sh BUNDLE_DIR VERSION OUT_DIR      (prints the MSI's path)
#
# On Linux the bundle holds Linux executables (csos, csos-gui): they are staged under
# their Windows names so the MSI's tables are those of the real installer. Such an MSI
# checks the WiX source and the tables (installers/windows/check_msi.py); the installable
# one is built from the Windows bundle (installers/ci/windows.yml).
set -euo pipefail
bundle=$(cd "$1" && pwd) version=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
for tool in wixl wixl-heat msibuild; do
  command -v "$tool" >/dev/null || { echo "$tool not found: install msitools and wixl (make msi-deps)" >&2; exit 1; }
done
[ -d "$bundle/_internal" ] || { echo "no bundle in $bundle (run make bundle)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for exe in csos csos-gui; do
  if [ -e "$bundle/$exe.exe" ]; then src="$bundle/$exe.exe"; else src="$bundle/$exe"; fi
  [ -e "$src" ] || { echo "no $exe executable in $bundle" >&2; exit 1; }
  ln -s "$src" "$stage/$exe.exe"
done
ln -s "$bundle/_internal" "$stage/_internal"

# Every file under _internal\ as one component each, in the component group CG.Bundle.
(cd "$bundle" && find _internal -type f | LC_ALL=C sort) \
  | wixl-heat --prefix "" --directory-ref INSTALLDIR --component-group CG.Bundle \
      --var var.BundleDir --win64 > "$stage/bundle-files.wxs"

mkdir -p "$out"
msi="$(cd "$out" && pwd)/csos-desktop-${version}-x64.msi"
rm -f "$msi"
# wixl takes File sources relative to the working directory only.
(cd "$stage" && wixl --arch x64 -D Wixl=1 -D Version="$version" -D BundleDir=. -D Win64=yes -o "$msi" \
  "$here/csos-desktop.wxs" bundle-files.wxs)
# wixl has no Secure="yes": the public properties join the list it writes, so that they
# reach the elevated (per-machine) part of the install.
secure=$(msiinfo export "$msi" Property | tr -d '\r' | awk -F'\t' '$1=="SecureCustomProperties"{print $2}')
msibuild "$msi" -q "UPDATE \`Property\` SET \`Value\` = '${secure:+$secure;}DISTRIBUTOR_URL;PKCS11_MODULE;CA_BUNDLE' WHERE \`Property\` = 'SecureCustomProperties'"
echo "$msi"
