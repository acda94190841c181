#!/usr/bin/env bash
# Kotlin 2.x for the Android demo's plain-Kotlin core (the suite's compile, JUnit run and
# cross-checks, and benchmarks/appcores/kotlin.py), installed from the registries only:
#   - npm's kotlin-compiler (the full JetBrains distribution: bin/kotlinc, lib/kotlin-stdlib.jar),
#     run on the machine's JDK 17. The app itself builds with Kotlin 2.2.21 (gradle/libs.versions.toml);
#     the suite compiles with this newer compiler at -language-version 2.2, which is the same language.
#   - JUnit 4.13.2 and Hamcrest from Debian (junit4, libhamcrest-java): the app's Gradle build tests
#     with junit:junit:4.13.2 (testImplementation), so the suite runs the very same JUnit, and the
#     tests need no JUnit 5 platform launcher (which no registry we may reach ships as one jar).
#     The .debs are downloaded and unpacked here, not installed, so this needs no root for them.
# Layout: $PCARN_TOOLCHAINS/kotlin/{compiler/bin/kotlinc, compiler/lib/*.jar, junit/*.jar, .complete}.
# Idempotent: exits at once when .complete is there; builds in a temp folder, moves it into place.
set -euo pipefail

KOTLIN_VERSION=2.4.20
DEST="${PCARN_TOOLCHAINS:-$HOME/.cache/pcarn-mobile}/kotlin"
if [ -f "$DEST/.complete" ]; then
  echo "kotlin toolchain already installed in $DEST"
  exit 0
fi
command -v java >/dev/null || { echo "kotlin toolchain: needs a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)" >&2; exit 1; }
command -v npm >/dev/null || { echo "kotlin toolchain: needs npm (Debian: apt-get install npm)" >&2; exit 1; }

mkdir -p "$(dirname "$DEST")"
WORK="$(mktemp -d "$(dirname "$DEST")/.kotlin.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# 1. The compiler: npm lays the distribution out under node_modules/kotlin-compiler.
npm install --silent --no-audit --no-fund --prefix "$WORK/npm" "kotlin-compiler@$KOTLIN_VERSION"
PKG="$WORK/npm/node_modules/kotlin-compiler"
mkdir -p "$WORK/kotlin"
mv "$PKG" "$WORK/kotlin/compiler"
chmod +x "$WORK/kotlin/compiler/bin/"*
"$WORK/kotlin/compiler/bin/kotlinc" -version 2>&1 | grep -q "$KOTLIN_VERSION" \
  || { echo "kotlin toolchain: the npm package did not give kotlinc $KOTLIN_VERSION" >&2; exit 1; }

# 2. JUnit 4 + Hamcrest from Debian, unpacked (apt-get download needs no root, only apt's lists).
mkdir -p "$WORK/debs" "$WORK/kotlin/junit"
( cd "$WORK/debs" && { apt-get download -qq junit4 libhamcrest-java 2>/dev/null \
    || { [ "$(id -u)" = 0 ] && apt-get update -qq && apt-get download -qq junit4 libhamcrest-java; }; } )
for deb in "$WORK"/debs/*.deb; do dpkg-deb -x "$deb" "$WORK/debs/root"; done
cp -L "$WORK/debs/root/usr/share/java/junit4.jar" "$WORK/debs/root/usr/share/java/hamcrest.jar" "$WORK/kotlin/junit/"

rm -rf "$DEST"
mv "$WORK/kotlin" "$DEST"
touch "$DEST/.complete"
echo "kotlin toolchain installed in $DEST ($(du -sh "$DEST" | cut -f1))"
