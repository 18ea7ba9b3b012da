#!/usr/bin/env bash
# Re-pins requirements.txt: resolves the newest diffusers, transformers, tokenizers,
# huggingface_hub, safetensors and accelerate (or the versions given as arguments, e.g.
# diffusers==0.42.1) against the LibTorch venv's packages, and writes every package that the
# LibTorch venv lacks with its version and the sha256 of the cp311 manylinux wheel from PyPI.
# Nothing is downloaded but the resolver's metadata. Then run setup.sh to install the new pins.
set -euo pipefail
cd "$(dirname "$0")"
torch_dir=$(../../scripts/setup-libtorch.sh)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
/usr/bin/python3 -m venv --without-pip "$scratch/venv"
site=$("$scratch/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
torch_site=$("$torch_dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$torch_site" >"$site/kiln-libtorch.pth"
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(diffusers transformers tokenizers huggingface_hub safetensors accelerate)
# The LibTorch venv's pip runs for the scratch interpreter (--python needs pip >= 22.3).
"$torch_dir/bin/python" -m pip --python "$scratch/venv/bin/python" install --dry-run --quiet \
  --disable-pip-version-check --only-binary=:all: --report "$scratch/report.json" "${specs[@]}" >&2
"$torch_dir/bin/python" - "$scratch/report.json" "$torch_dir" "${specs[*]}" <<'PY' >requirements.txt.partial
import json, sys
report, torch_dir, specs = sys.argv[1], sys.argv[2], sys.argv[3]
print("# diffusers and its dependencies for bench/compare, installed by setup.sh into a venv that also")
print("# sees the LibTorch venv's site-packages (the same torch as Kiln; torch is not installed here).")
print(f"# Made by pin.sh ({specs}) against {torch_dir.rsplit('/', 1)[-1]}; do not edit by hand.")
for item in sorted(json.load(open(report))["install"], key=lambda i: i["metadata"]["name"].lower()):
    name, version = item["metadata"]["name"], item["metadata"]["version"]
    sha = item["download_info"]["archive_info"]["hashes"]["sha256"]
    print(f"{name}=={version} \\\n    --hash=sha256:{sha}")
PY
mv requirements.txt.partial requirements.txt
echo "wrote $(pwd)/requirements.txt" >&2
