#!/bin/sh
# 21-vectors-derive.sh: the vectors committed in t/21-turn-vectors.c are
# exactly the ones contrib/vectors/derive.py derives with its own encoder
# (after it has reproduced the Firezone relay's historic vectors).
# Regenerate them with `python3 contrib/vectors/derive.py --c` when the
# engine's answers change on purpose.
cd "$(dirname "$0")/.." || exit 1
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
exec "$PY" contrib/vectors/derive.py --check t/21-turn-vectors.c
