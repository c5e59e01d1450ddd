#!/usr/bin/env bash
# Builds the installable artefacts of `zvm` into dist/:
#   zvm-VERSION-TARGET.tar.gz   the zvm binary, shell completions (bash, zsh, fish,
#                               PowerShell, elvish), man pages, README and licence notes;
#                               with WITH_GUI=1 the desktop app zvm-gui too
#   zvm_VERSION_ARCH.deb        (Linux targets, when cargo-deb is installed) the same files
#                               in Debian's places: /usr/bin, bash-completion, zsh and fish
#                               vendor completions, /usr/share/man/man1
# Completions and man pages come from the binary itself (`zvm completions`, `zvm man`), so
# they always match its flags.
#
# Targets: the host by default. Configured, but not buildable on this Linux machine (they need
# their own OS's SDK): TARGET=x86_64-apple-darwin, TARGET=aarch64-apple-darwin,
# TARGET=x86_64-pc-windows-msvc (a .zip instead of a .tar.gz; the static C runtime is set in
# .cargo/config.toml so the .exe needs no redistributable).
#
# Usage: packaging/release.sh            (PROFILE=dist: release, stripped)
#        NO_DEB=1 packaging/release.sh   (tarball only)
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=$(rustc -vV | sed -n 's/^host: //p')
TARGET=${TARGET:-$HOST}
PROFILE=${PROFILE:-dist}
VERSION=$(cargo metadata --format-version 1 --no-deps --locked |
  sed -n 's/.*"name":"zvm-cli","version":"\([^"]*\)".*/\1/p')
[ -n "$VERSION" ] || { echo "release.sh: cannot read zvm-cli's version from cargo metadata" >&2; exit 1; }
EXE=""
case "$TARGET" in *windows*) EXE=".exe" ;; esac

# What a released zvm can write to and keep its state in: every remote destination whose
# uploads stream (S3, WebDAV, SFTP, Azure Blob, GCS, Google Drive, OneDrive, Dropbox) and the
# PostgreSQL state a fleet of workers shares. SFTP is left out of Windows builds: OpenDAL reaches it through the openssh
# crate, which builds on Unix only. FEATURES=... replaces the list (FEATURES= builds folders
# only).
DESTS=s3,webdav,sftp,azblob,gcs,gdrive,onedrive,dropbox
case "$TARGET" in *windows*) DESTS=s3,webdav,azblob,gcs,gdrive,onedrive,dropbox ;; esac
prefixed() { local p=$1 out="" f; IFS=, read -r -a fs <<< "$2"; for f in "${fs[@]}"; do out+="${out:+,}$p/$f"; done; echo "$out"; }
bins=(--bin zvm -p zvm-cli)
[ "${WITH_GUI:-0}" = 1 ] && bins+=(-p zvm-gui --bin zvm-gui)
if [ -z "${FEATURES+set}" ]; then
  FEATURES=$(prefixed zvm-cli "$DESTS,postgres")
  [ "${WITH_GUI:-0}" = 1 ] && FEATURES+=",$(prefixed zvm-gui "$DESTS")"
fi
[ -n "$FEATURES" ] && bins+=(--features "$FEATURES")
echo "== building ${bins[*]} for $TARGET (profile $PROFILE)"
cargo build --locked --profile "$PROFILE" --target "$TARGET" "${bins[@]}"
OUT=target/$TARGET/$PROFILE

# Generated files, from the binary just built (run on the host: a cross-built binary can't
# run here, so a cross build takes them from a host build of the same sources).
ASSETS=target/assets
rm -rf "$ASSETS" && mkdir -p "$ASSETS/completions" "$ASSETS/man"
GEN=$OUT/zvm$EXE
if [ "$TARGET" != "$HOST" ]; then
  cargo build --locked --profile "$PROFILE" -p zvm-cli --bin zvm ${FEATURES:+--features "$FEATURES"}
  GEN=target/$PROFILE/zvm
fi
"$GEN" completions bash > "$ASSETS/completions/zvm.bash"
"$GEN" completions zsh > "$ASSETS/completions/_zvm"
"$GEN" completions fish > "$ASSETS/completions/zvm.fish"
"$GEN" completions powershell > "$ASSETS/completions/_zvm.ps1"
"$GEN" completions elvish > "$ASSETS/completions/zvm.elv"
"$GEN" man --dir "$ASSETS/man"
gzip -9n "$ASSETS"/man/*.1

mkdir -p dist
NAME=zvm-$VERSION-$TARGET
STAGE=target/stage/$NAME
rm -rf "$STAGE" && mkdir -p "$STAGE"
cp "$OUT/zvm$EXE" "$STAGE/"
[ "${WITH_GUI:-0}" = 1 ] && cp "$OUT/zvm-gui$EXE" "$STAGE/"
cp -r "$ASSETS/completions" "$ASSETS/man" "$STAGE/"
cp README.md "$STAGE/"
case "$TARGET" in
  *windows*)
    (cd target/stage && rm -f "../../dist/$NAME.zip" && zip -qr "../../dist/$NAME.zip" "$NAME")
    echo "dist/$NAME.zip" ;;
  *)
    tar -C target/stage -czf "dist/$NAME.tar.gz" "$NAME"
    echo "dist/$NAME.tar.gz" ;;
esac

case "$TARGET" in
  *linux*)
    if [ "${NO_DEB:-0}" = 1 ]; then exit 0; fi
    command -v cargo-deb >/dev/null || { echo "release.sh: cargo-deb is not installed (cargo install cargo-deb --locked); NO_DEB=1 skips the .deb" >&2; exit 1; }
    cargo deb --locked -p zvm-cli --no-build --profile "$PROFILE" --target "$TARGET" --output dist/
    ls dist/*.deb ;;
esac
