#!/usr/bin/env bash
# Build the documentation as HTML, then run every example in it.
#
#   docs/build.sh [OUTPUT_FOLDER]
#
# Warnings are errors.  The HTML lands in OUTPUT_FOLDER/html (a new
# temporary folder when none is given); the examples' report in
# OUTPUT_FOLDER/doctest/output.txt.  Needs the package and its "docs"
# extra installed: python -m pip install '.[docs]'
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-$(mktemp -d)}"
sphinx_build="${SPHINXBUILD:-sphinx-build}"

"$sphinx_build" -E -W --keep-going -q -b html \
    -d "$out/doctrees" docs "$out/html"
"$sphinx_build" -W -q -b doctest -d "$out/doctrees" docs "$out/doctest"
echo "documentation built in $out/html (examples: $out/doctest/output.txt)"
