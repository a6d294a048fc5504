#!/usr/bin/env bash
# Copy MathJax 3, require.js and the Jupyter widget manager (versions locked in package-lock.json)
# into _vendor/, which _config.yml adds to html_static_path: the built book then renders math and
# widgets with no network.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/mathjax/es5/tex-chtml.js ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
rm -rf _vendor && mkdir -p _vendor/html-manager
cp -r node_modules/mathjax/es5 _vendor/mathjax
cp node_modules/requirejs/require.js _vendor/require.js
find node_modules/@jupyter-widgets/html-manager/dist -maxdepth 1 -type f \
  ! -name '*.map' ! -name 'libembed-amd.js' -exec cp {} _vendor/html-manager/ \;
echo "vendored: $(du -sh _vendor | cut -f1) in _vendor/"
