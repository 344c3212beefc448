"""Which translation units scripts/check-tidy gives clang-tidy: reads our source files (absolute or relative to ROOT)
on stdin and the compile commands, and prints each unity batch that holds one of them and each one compiled on its
own. A file of ours in no compile command is named on stderr: this build does not compile it (gpu-probe builds
either the CUDA backend or the no-CUDA one), so clang-tidy cannot check it here."""
import json
import pathlib
import re
import sys

INCLUDE = re.compile(r'^#include "([^"]+\.cpp)"', re.M)


def main() -> int:
    commands, root = sys.argv[1], pathlib.Path(sys.argv[2])
    ours = {str((root / line.strip()).resolve()) for line in sys.stdin if line.strip()}
    covered, units = set(), []
    for entry in json.load(open(commands, encoding="utf-8")):
        path = pathlib.Path(entry["directory"], entry["file"]).resolve()
        if "/Unity/unity_" in str(path):
            members = {str(pathlib.Path(m).resolve()) for m in INCLUDE.findall(path.read_text(encoding="utf-8"))}
            mine = members & ours
        else:
            mine = {str(path)} & ours
        if mine and str(path) not in units:
            units.append(str(path))
            covered |= mine
    missing = sorted(ours - covered)
    for path in missing:
        print(f"check-tidy: {path} is not compiled in this build, so not checked", file=sys.stderr)
    print("\n".join(units))
    return 0


if __name__ == "__main__":
    sys.exit(main())
