#!/usr/bin/env bash
# Installs what the test suite drives from outside: pyHanko (validator), poppler (pdfsig,
# pdftotext, pdftoppm), qpdf, NSS tools, Ghostscript (test inputs), SoftHSM2 (PKCS#11),
# headless Chromium and chromedriver (the admin console's browser test, W3C WebDriver).
# Idempotent: installs only what is missing.
set -euo pipefail

need_apt=()
command -v pdfsig >/dev/null || need_apt+=(poppler-utils)
command -v unzip >/dev/null || need_apt+=(unzip)
command -v qpdf >/dev/null || need_apt+=(qpdf)
command -v certutil >/dev/null || need_apt+=(libnss3-tools)
command -v gs >/dev/null || need_apt+=(ghostscript)
command -v softhsm2-util >/dev/null || need_apt+=(softhsm2)
command -v pkcs11-tool >/dev/null || need_apt+=(opensc)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v faketime >/dev/null || need_apt+=(faketime)
command -v xmlsec1 >/dev/null || need_apt+=(xmlsec1)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
# docs/alphasign.md's examples run as written: curl, Node (fetch) and Python (requests).
command -v curl >/dev/null || need_apt+=(curl)
command -v node >/dev/null || need_apt+=(nodejs)
# docs/external-api.md's walk-through runs as written: curl and jq.
command -v jq >/dev/null || need_apt+=(jq)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v pyhanko >/dev/null || ! command -v openapi-spec-validator >/dev/null || ! command -v moto_server >/dev/null || ! python3 -c 'import certomancer, werkzeug, aiosmtpd, standardwebhooks, requests' 2>/dev/null; then
  echo "installing pyHanko, certomancer, aiosmtpd (test SMTP server), standardwebhooks, openapi-spec-validator and moto (S3-compatible server) from PyPI"
  python3 -m pip install -q pyhanko pyhanko-cli 'certomancer[web-api]' aiosmtpd standardwebhooks requests openapi-spec-validator 'moto[server]'
fi
