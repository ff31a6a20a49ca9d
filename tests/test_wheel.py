"""The built wheel is complete: installed into a fresh virtual environment (reusing this environment's installed
dependencies, never the clone's editable discourse) it classifies, scores an archive and serves the API from a
folder outside the clone, reading the codebook and the shipped models from the package itself."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from discourse.settings import REPO_ROOT

pytestmark = pytest.mark.encoder  # the installed package loads the rebuilt encoder from $DISCOURSE_HOME

ARCHIVE = [
    {"id": "w-1", "title": "Goed genoeg", "date": "2024-03-05", "text": "Ge moet u niet schuldig voelen als het niet "
     "perfect loopt. Een goed genoeg mama is meer dan genoeg, en rust nemen mag."},
    {"id": "w-2", "title": "Borstvoeding", "date": "2024-03-06", "text": "Elke moeder moet minstens zes maanden "
     "borstvoeding geven; wie dat niet doet, schiet tekort tegenover haar baby."},
]

API_CHECK = """
import json, discourse
from fastapi.testclient import TestClient
from api.main import app
with TestClient(app) as client:
    health = client.get("/v1/health")
    classified = client.post("/v1/classify", json={"text": "Ge moet u niet schuldig voelen; goed genoeg is genoeg."})
print(json.dumps({"health": health.json(), "classify": classified.json(), "package": discourse.__file__}))
"""


def copy_tracked_tree(target: Path) -> Path:
    """The clone's tracked and unignored files only: a build folder or egg-info left in the clone can't leak in."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO_ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv with the wheel installed (--no-deps); a .pth line puts this environment's site-packages after its
    own, as a plain path, so that the clone's editable-install hook in there is never run."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = copy_tracked_tree(tmp / "src")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    wheel, = (tmp / "dist").glob("discourse-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_project_dependencies.pth").write_text("\n".join(ours) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISCOURSE_MODEL", "DISCOURSE_ENCODER")}
    env["DISCOURSE_DATA"] = str(tmp / "data")
    return {"venv": venv, "python": python, "cwd": elsewhere, "env": env, "site": site}


def run(installed, *command: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), cwd=installed["cwd"], env=installed["env"], capture_output=True, text=True,
                          timeout=timeout)


def test_wheel_carries_the_shipped_data_and_the_package_is_the_installed_one(installed):
    shipped = installed["site"] / "discourse" / "_shipped"
    for name in ("corpora/codebook.yaml", "models/framing-e5-small/config.json", "models/framing-e5-small/adapter",
                 "models/framing-e5-small/stance.safetensors", "models/prefilter/weights.npz",
                 "models/encoders/multilingual-e5-small.json"):
        assert (shipped / name).exists(), name
    result = run(installed, str(installed["python"]), "-c",
                 "import discourse, discourse.settings as s; print(discourse.__file__); print(s.DEFAULT_MODEL_DIR)")
    package, model = result.stdout.split()
    assert Path(package).is_relative_to(installed["venv"]), f"the clone's discourse was imported: {package}"
    assert Path(model) == shipped / "models" / "framing-e5-small"


def test_installed_cli_classifies_from_another_folder(installed):
    result = run(installed, str(installed["venv"] / "bin" / "discourse"), "classify",
                 "Ge moet u niet schuldig voelen; goed genoeg is genoeg.")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("label: supportive"), result.stdout


def test_installed_cli_scores_an_archive_into_sqlite(installed, tmp_path):
    archive, store = tmp_path / "archive.jsonl", tmp_path / "store.sqlite"
    archive.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ARCHIVE), encoding="utf-8")
    result = run(installed, str(installed["venv"] / "bin" / "discourse"), "score-archive", str(archive),
                 "--db", f"sqlite:///{store}", "--source", "wheel-test")
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(store) as db:
        assert {row[0] for row in db.execute("SELECT id FROM documents")} == {"w-1", "w-2"}
        scored = dict(db.execute("SELECT document_id, model FROM document_scores"))
    assert scored == {"w-1": "framing-e5-small", "w-2": "framing-e5-small"}


def test_installed_api_serves_health_and_classify(installed):
    result = run(installed, str(installed["python"]), "-c", API_CHECK)
    assert result.returncode == 0, result.stderr[-3000:]
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(body["package"]).is_relative_to(installed["venv"])
    assert body["health"] == {"status": "ok"}
    assert body["classify"]["items"][0]["label"] == "supportive"


def test_installed_package_names_the_clone_for_the_annotated_corpus(installed):
    result = run(installed, str(installed["python"]), "-c",
                 "from discourse.training.corpus import load_units; load_units()")
    assert result.returncode == 1 and "not part of an installed package; run this from a clone" in result.stderr
