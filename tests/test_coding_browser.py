"""The coding view of the dashboard page in a real browser: the system Chromium driven by selenium against a real
`uvicorn api.main:app` on a writable copy of the demo store, two coders told apart by their API keys. No mocks:
every code goes through /v1/annotations into SQLite and is checked through the export endpoint.

One server and one browser for the module; the browser fixtures and helpers are test_dashboard_browser's (it
skips the module without Chromium, unless DISCOURSE_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest
from conftest import UvicornServer
from browser import ARTIFACTS, browser_available, css, css_all, driver, severe, wait  # noqa: F401

KEYS = {"key-anna": "anna", "key-bram": "bram"}
ANNA, BRAM = ({"X-API-Key": key} for key in KEYS)
STANCE_KEYS = {"1": "supportive", "2": "pressuring", "3": "neutral"}


@pytest.fixture(scope="module")
def server(browser_available, copy_demo_store, tmp_path_factory):  # noqa: F811 (the imported fixture)
    server = UvicornServer(tmp_path_factory.mktemp("coding") / "server.log",
                           {"DISCOURSE_API_DATABASE_URL": copy_demo_store(),
                            "DISCOURSE_API_CODERS": json.dumps(KEYS),
                            # where a training job would write its model
                            "DISCOURSE_DATA": str(tmp_path_factory.mktemp("coding-data"))})
    try:
        yield server.wait_ready()
    finally:
        server.stop()


# ------------------------------------------------------------------ helpers

def keys(driver, *sequence: str) -> None:  # noqa: F811
    """Keys typed into whatever has the focus, as a coder types them."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*sequence).perform()


def idle(driver) -> bool:  # noqa: F811
    return css(driver, "#coding-card").get_attribute("aria-busy") != "true"


def shown_item(driver) -> int | None:  # noqa: F811
    item = css(driver, "#coding-item")
    return int(item.get_attribute("data-item-id")) if item.get_attribute("data-state") == "ready" else None


def wait_progress(driver, done: int, total: int) -> None:  # noqa: F811
    wait(driver, lambda d: idle(d) and css(d, "#coding-progress-bar").get_attribute("value") == str(done)
         and css(d, "#coding-progress-bar").get_attribute("max") == str(total),
         message=f"progress never reached {done}/{total}: {css(driver, '#coding-progress').text!r}, "
                 f"{css(driver, '#coding-error').text!r}")


def open_coding(driver, server, key: str) -> None:  # noqa: F811
    """The page's coding view with the coder's key entered."""
    driver.get(server.base + "/?view=coding")
    wait(driver, lambda d: d.execute_script("return document.body.dataset.codingReady === 'true'"),
         message="coding.js did not start")
    use_key(driver, key)


def use_key(driver, key: str) -> None:  # noqa: F811
    css(driver, "#coding-key").send_keys(key)
    css(driver, "#coding-key-use").click()
    wait(driver, lambda d: idle(d) and css(d, "#coding-who").get_attribute("data-state") in ("accepted", "refused"),
         message="the key was never checked")


def open_queue(driver, name: str) -> None:  # noqa: F811
    field = css(driver, "#coding-queue")
    field.clear()
    field.send_keys(name)
    css(driver, "#coding-queue-open").click()
    wait(driver, lambda d: idle(d) and css(d, "#coding-item").get_attribute("data-state") in ("ready", "done"))


def checked(driver) -> dict:  # noqa: F811
    """The codes the form shows."""
    return driver.execute_script("""
        const on = (name) => [...document.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
        return {relevant: on('coding-relevant'), stance: on('coding-stance'), frames: on('coding-frame'),
                memo: document.querySelector('#coding-memo').value};""")


def export(server, queue: str) -> list[dict]:
    response = httpx.get(f"{server.base}/v1/annotations/export", params={"format": "jsonl", "queue": queue})
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def make_queue(server, name: str, size: int, coders: list[str], overlap: float) -> None:
    response = httpx.post(f"{server.base}/v1/annotations/queues", headers=ANNA, json={
        "name": name, "size": size, "coders": coders, "overlap": overlap, "seed": 3})
    assert response.status_code == 201, response.text


def cohen_kappa(first: list, second: list) -> float:
    """Cohen's kappa by hand: observed agreement against the agreement the two coders' marginals predict."""
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second)) / n
    a, b = Counter(first), Counter(second)
    expected = sum(a[c] * b[c] for c in set(first) | set(second)) / n ** 2
    return (observed - expected) / (1 - expected)


def code_by_keys(driver, plan: str) -> None:  # noqa: F811
    """One sentence coded by keys alone: "1"/"2"/"3" a stance, "0" not relevant, "f" + space the first frame,
    then Enter."""
    keys(driver, *plan)
    keys(driver, "\ue007")  # Enter


# ------------------------------------------------------------------ tests

def test_code_ten_sentences_by_keyboard_undo_and_reload(server, driver):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.get(server.base + "/")
    wait(driver, lambda d: d.execute_script("return document.body.dataset.codingReady === 'true'"))
    assert css(driver, "#filters").is_displayed() and not css(driver, "#coding").is_displayed()
    # the tab is reachable by keyboard: focus the dashboard tab, arrow right opens the coding view
    driver.execute_script("document.querySelector('#tab-dashboard').focus()")
    keys(driver, Keys.ARROW_RIGHT)
    wait(driver, lambda d: css(d, "#coding").is_displayed() and not css(d, "#main").is_displayed())
    assert not css(driver, "#filters").is_displayed()
    assert "view=coding" in driver.current_url
    assert css(driver, "#tab-coding").get_attribute("aria-selected") == "true"

    # a key that is no coder's is refused in words
    use_key(driver, "not-a-coder")
    assert "DISCOURSE_API_CODERS" in css(driver, "#coding-who").text
    use_key(driver, "key-anna")

    # a queue made in the form: ten sentences for anna alone
    css(driver, "#coding-new summary").click()
    css(driver, "#new-name").send_keys("solo")
    for field, value in (("#new-size", "10"), ("#new-overlap", "0"), ("#new-coders", "anna")):
        css(driver, field).clear()
        css(driver, field).send_keys(value)
    css(driver, "#new-create").click()
    wait(driver, lambda d: idle(d) and css(d, "#coding-item").get_attribute("data-state") == "ready")
    assert "solo: 10" in css(driver, "#coding-new-status").text
    wait_progress(driver, 0, 10)
    assert css(driver, "[data-testid=coding-sentence]").text
    assert not css_all(driver, "[data-testid=coding-suggestion]")  # SHOW_SUGGESTIONS is off by default

    plans = ["1", "2f ", "3m", "0", "1f \ue015 ", "2", "3", "0", "1m", "2"]  # \ue015: arrow down
    expected = {}
    for i, plan in enumerate(plans):
        item = shown_item(driver)
        keys(driver, *plan)
        if plan.endswith("m"):
            # the memo has the focus: the keys are text there ("m", "2", "u" do nothing else) until Escape leads
            # back to the sentence, or Ctrl+Enter saves from the memo itself
            keys(driver, f"memo {i} ums")
            if i == 8:
                ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
            else:
                keys(driver, Keys.ESCAPE, Keys.ENTER)
        elif i == 5:  # a double Enter saves this sentence once and does not skip the next
            keys(driver, Keys.ENTER, Keys.ENTER)
        else:
            keys(driver, Keys.ENTER)
        wait_progress(driver, i + 1, 10)
        expected[item] = plan
    assert css(driver, "#coding-item").get_attribute("data-state") == "done"
    assert "anna" in css(driver, "#coding-who").text  # the server named the coder on the first save

    rows = {row["item_id"]: row for row in export(server, "solo")}
    assert set(rows) == set(expected)
    frames = [box.get_attribute("value") for box in css_all(driver, "#coding-frames input")]
    for item, plan in expected.items():
        row = rows[item]
        assert row["coder"] == "anna" and row["origin"] == "coding"
        assert row["relevant"] is (plan[0] != "0")
        assert row["stance"] == STANCE_KEYS.get(plan[0])
        assert row["frames"] == sorted(frames[:plan.count(" ")]) or row["frames"] == frames[:plan.count(" ")]
        assert row["memo"] == (f"memo {list(expected).index(item)} ums" if plan.endswith("m") else None)

    # undo: the last sentence comes back with its codes, one left to code
    keys(driver, "u")
    wait_progress(driver, 9, 10)
    last = list(expected)[-1]
    assert shown_item(driver) == last
    assert checked(driver) == {"relevant": ["true"], "stance": ["pressuring"], "frames": [], "memo": ""}
    assert len(export(server, "solo")) == 9

    # a reload keeps the key and the queue: the undone sentence is next
    driver.refresh()
    wait(driver, lambda d: d.execute_script("return document.body.dataset.codingReady === 'true'"))
    wait(driver, lambda d: shown_item(d) == last)
    assert css(driver, "#coding").is_displayed()
    wait_progress(driver, 9, 10)
    keys(driver, "3", Keys.ENTER)
    wait_progress(driver, 10, 10)
    rows = {row["item_id"]: row for row in export(server, "solo")}
    assert set(rows) == set(expected) and rows[last]["stance"] == "neutral"
    assert severe(driver, network=False) == []  # the refused key's 403 is logged by the browser as a failure


def test_a_failed_save_keeps_the_codes_and_saves_on_retry(server, driver):
    from selenium.webdriver.common.keys import Keys

    make_queue(server, "offline", 2, ["anna"], 0.0)
    open_coding(driver, server, "key-anna")
    open_queue(driver, "offline")
    item = shown_item(driver)
    keys(driver, "2", "m", "kan wachten", Keys.ESCAPE)
    driver.set_network_conditions(offline=True, latency=0, download_throughput=-1, upload_throughput=-1)
    try:
        keys(driver, Keys.ENTER)
        wait(driver, lambda d: idle(d) and css(d, "#coding-error").is_displayed())
    finally:
        driver.set_network_conditions(offline=False, latency=0, download_throughput=-1, upload_throughput=-1)
    assert shown_item(driver) == item
    assert checked(driver) == {"relevant": ["true"], "stance": ["pressuring"], "frames": [], "memo": "kan wachten"}
    assert export(server, "offline") == []
    keys(driver, Keys.ENTER)
    wait_progress(driver, 1, 2)
    assert not css(driver, "#coding-error").is_displayed()
    [row] = export(server, "offline")
    assert (row["item_id"], row["stance"], row["memo"]) == (item, "pressuring", "kan wachten")
    assert severe(driver, network=False) == []


def test_two_coders_and_the_agreement_panel_shows_their_kappa(server, driver):
    from selenium.webdriver.common.keys import Keys

    make_queue(server, "pair", 6, ["anna", "bram"], 1.0)
    plans = {"anna": ["1", "1", "2", "2", "3", "0"], "bram": ["1", "2", "2", "0", "3", "0"]}
    order = []  # the items in the order anna met them; bram's codes follow the item, not his order
    for coder, key in (("anna", "key-anna"), ("bram", "key-bram")):
        open_coding(driver, server, key)
        open_queue(driver, "pair")
        for i in range(6):
            item = shown_item(driver)
            if coder == "anna":
                order.append(item)
            keys(driver, plans[coder][order.index(item)], Keys.ENTER)
            wait_progress(driver, i + 1, 6)

    rows = export(server, "pair")
    assert Counter(row["coder"] for row in rows) == {"anna": 6, "bram": 6}
    codes = {coder: [next(r for r in rows if r["coder"] == coder and r["item_id"] == item) for item in order]
             for coder in plans}
    relevance = cohen_kappa(*([r["relevant"] for r in codes[c]] for c in plans))
    both = [i for i in range(6) if codes["anna"][i]["relevant"] and codes["bram"][i]["relevant"]]
    stance = cohen_kappa(*([codes[c][i]["stance"] for i in both] for c in plans))
    assert relevance == pytest.approx(8 / 14)  # the plan's numbers, worked out on paper

    # the queue named in the queue field (bram's, open)
    css(driver, "#review-run").click()
    table = wait(driver, lambda d: css(d, "#coding-agreement").get_attribute("data-state") == "ready"
                 and css(d, "#coding-agreement"))
    shown = {name: css(table, f"tr[data-dimension={name}] td.kappa") for name in ("relevance", "stance")}
    assert float(shown["relevance"].get_attribute("data-value")) == pytest.approx(relevance, abs=1e-4)
    assert float(shown["stance"].get_attribute("data-value")) == pytest.approx(stance, abs=1e-4)
    assert "0,57" in shown["relevance"].text and "[" in shown["relevance"].text  # Dutch decimals, an interval
    n = css(table, "tr[data-dimension=stance] td:nth-child(2)").text
    assert n == str(len(both))
    for fmt in ("csv", "jsonl"):
        href = css(driver, f"#coding-export-{fmt}").get_attribute("href")
        assert f"format={fmt}" in href and "queue=pair" in href and httpx.get(href).status_code == 200
    assert severe(driver) == []


def test_the_disagreement_list_adjudicates_an_item(server, driver):
    from selenium.webdriver.support.ui import Select

    make_queue(server, "adjudicate", 2, ["anna", "bram"], 1.0)
    items = [httpx.get(f"{server.base}/v1/annotations/next", params={"queue": "adjudicate"}, headers=ANNA).json()
             ["item_id"]]
    codes = {"anna": "supportive", "bram": "neutral"}
    for coder, headers in (("anna", ANNA), ("bram", BRAM)):
        for item_id in items:
            response = httpx.post(f"{server.base}/v1/annotations", headers=headers, json={
                "item_id": item_id, "relevant": True, "stance": codes[coder], "frames": []})
            assert response.status_code == 200, response.text
    [item_id] = items

    open_coding(driver, server, "key-bram")
    css(driver, "#coding-queue").clear()  # a queue to review need not be one to code in
    css(driver, "#coding-queue").send_keys("adjudicate")
    css(driver, "#review-run").click()
    entry = wait(driver, lambda d: css(d, "#coding-disagreements").get_attribute("data-state") == "ready"
                 and css(d, f"#coding-disagreements li[data-item-id='{item_id}']"))
    assert {tr.get_attribute("data-coder") for tr in css_all(entry, "tr[data-coder]")} == {"anna", "bram"}
    assert css(entry, "[data-testid=adjudicated]").text == ""
    Select(css(entry, f"#adj-{item_id}-stance")).select_by_value("pressuring")
    css(entry, f"#adj-{item_id}-memo").send_keys("druk door de norm")
    css(entry, "form.adjudicate button[type=submit]").click()
    wait(driver, lambda d: css(d, f"#coding-disagreements li[data-item-id='{item_id}'] [data-testid=adjudicated]")
         .text != "")

    rows = [row for row in export(server, "adjudicate") if row["item_id"] == item_id]
    assert len(rows) == 2
    assert {(r["adjudicator"], r["adjudicated_relevant"], r["adjudicated_stance"]) for r in rows} == \
        {("bram", True, "pressuring")}
    assert severe(driver) == []


def test_training_from_too_few_codes_shows_the_failed_job(server, driver):
    """The train button starts the job and follows it to its end; a real training takes minutes (it is tested
    over HTTP in test_train_from_annotations), so here the job has too few codes and fails at once."""
    from selenium.webdriver.common.keys import Keys

    make_queue(server, "few", 1, ["anna"], 0.0)
    open_coding(driver, server, "key-anna")
    open_queue(driver, "few")
    keys(driver, "1", Keys.ENTER)
    wait_progress(driver, 1, 1)
    css(driver, "#coding-train").click()
    job = wait(driver, lambda d: css(d, "#coding-train-job").get_attribute("data-state") in ("failed", "finished")
               and css(d, "#coding-train-job"), timeout=120, message="the training job never ended")
    assert job.get_attribute("data-state") == "failed"
    assert "usable coded sentences" in css(job, "pre.error").text
    assert not css_all(driver, "#coding-activate")
    assert css(driver, "#coding-train").is_enabled()
    assert severe(driver) == []


def test_the_language_switch_keeps_the_codes_in_the_form(server, driver):
    make_queue(server, "language", 1, ["anna"], 0.0)
    open_coding(driver, server, "key-anna")
    open_queue(driver, "language")
    assert css(driver, "label[for=coding-stance-pressuring]").text == "2 Druk zettend"
    keys(driver, "2", "f", " ")
    before = checked(driver)
    css(driver, "#lang-toggle").click()
    wait(driver, lambda d: css(d, "#tab-coding").text == "Coding")
    assert "view=coding" in driver.current_url and "lang=en" in driver.current_url
    assert css(driver, "label[for=coding-stance-pressuring]").text == "2 Pressuring"
    assert css(driver, "#coding-keys-heading").text == "Keys"
    assert checked(driver) == before and before["frames"]

    ARTIFACTS.mkdir(exist_ok=True)  # a picture of the view for the reviewer
    shot = ARTIFACTS / "coding.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1366, min(max(height, 1000), 6000))
    try:
        assert driver.save_screenshot(str(shot))
    finally:
        driver.set_window_size(1366, 1000)
    assert severe(driver) == []
