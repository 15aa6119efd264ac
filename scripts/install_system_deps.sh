#!/usr/bin/env bash
# Debian packages the bot needs: ffmpeg (pydub decodes voice notes through it).
set -euo pipefail
command -v ffmpeg >/dev/null && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
