"""The dashboard page in a real browser: the system Chromium driven by selenium against a real
`uvicorn api.main:app` serving the demo store. No mocks: every panel is drawn from the real /v1/dashboard API.

One server and one browser for the whole module (the server's model load and the browser start are the slow
parts). Without /usr/bin/chromium and /usr/bin/chromedriver the module skips, unless DISCOURSE_REQUIRE_BROWSER=1
(CI, `.ci/run` installs both) makes it fail. selenium never downloads a browser or driver here (SE_OFFLINE).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from browser import ARTIFACTS, browser_available, css, css_all, driver, severe, wait  # noqa: F401 (fixtures)
from conftest import UvicornServer

PANELS = ("#stance-over-time", "#source-ranking", "#frame-heatmap", "#topic-list", "#document-list")


@pytest.fixture(scope="module")
def server(browser_available, demo_store, demo_topic_model, tmp_path_factory):
    server = UvicornServer(tmp_path_factory.mktemp("dashboard") / "server.log",
                           {"DISCOURSE_API_DATABASE_URL": demo_store})
    try:
        yield server.wait_ready()
    finally:
        server.stop()


# ------------------------------------------------------------------ helpers

def panel_done(selector: str, query_has: str | None = None, query_lacks: str | None = None):
    """A panel has finished drawing (data-state other than loading), for the query wanted (data-query)."""
    def done(driver):
        element = css(driver, selector)
        if element.get_attribute("data-state") in (None, "loading"):
            return False
        query = element.get_attribute("data-query") or ""
        if query_has is not None and query_has not in query:
            return False
        if query_lacks is not None and query_lacks in query:
            return False
        return element
    return done


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait(driver, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"),
         message="the page script did not start")
    for selector in PANELS:
        wait(driver, panel_done(selector), message=f"{selector} still loading")


def query(driver) -> dict[str, list[str]]:
    return parse_qs(urlparse(driver.current_url).query)


# ------------------------------------------------------------------ tests

def test_page_loads_with_charts_and_no_console_errors(server, driver, demo_topic_model):
    from selenium.webdriver.support.ui import Select

    open_page(driver, server.base + "/")
    assert severe(driver) == []
    assert driver.execute_script("return document.documentElement.lang") == "nl"

    # (1) stance over time: one focusable bar per period the API reports, three stance segments each
    series = httpx.get(f"{server.base}/v1/dashboard/timeseries", params={"period": "month"}).json()
    assert series["rows"], "the demo's policy texts are dated"
    assert css(driver, "#stance-over-time").get_attribute("data-state") == "ready"
    bars = css_all(driver, "#stance-over-time g.bar")
    assert [b.get_attribute("data-period") for b in bars] == [r["period"] for r in series["rows"]]
    assert all(b.get_attribute("tabindex") == "0" and b.get_attribute("aria-label") for b in bars)
    assert css(driver, "#stance-over-time svg").get_attribute("aria-label")
    # (2) sources ranked by pressuring share, in the API's order
    groups = httpx.get(f"{server.base}/v1/dashboard/groups",
                       params={"by": "source", "sort": "share_pressuring", "order": "desc"}).json()
    assert [b.get_attribute("data-group") for b in css_all(driver, "#source-ranking g.bar")] == \
        [r["group"] for r in groups["rows"]]
    # (3) heat map: a table with a number in every cell
    cells = css_all(driver, "#frame-heatmap td")
    assert cells and all(any(ch.isdigit() for ch in c.text) for c in cells)
    # (4) topics of the session's topic model (conftest.demo_topic_model), with their terms, in the API's order
    topics = httpx.get(f"{server.base}/v1/dashboard/topics", params={"topic_model": demo_topic_model}).json()
    assert css(driver, "#topic-list").get_attribute("data-state") == "ready"
    items = css_all(driver, "#topic-list li[data-topic]")
    assert [int(i.get_attribute("data-topic")) for i in items] == [r["topic"] for r in topics["rows"]]
    named = next(r for r in topics["rows"] if r["terms"])
    assert named["terms"][0] in css(driver, f'#topic-list li[data-topic="{named["topic"]}"]').text
    # (6) documents: the first page of the 20 demo documents
    assert len(css_all(driver, "#document-list button.link")) == 20
    # filter bar from /options; CSV export links for every aggregation
    sources = [o.get_attribute("value") for o in Select(css(driver, "#filter-source")).options]
    assert "Kind en Gezin" in sources and "demo-interviews" in sources
    for link in ("#timeseries-csv", "#sources-csv", "#heatmap-csv", "#documents-csv"):
        href = css(driver, link).get_attribute("href")
        assert "format=csv" in href
        response = httpx.get(href)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv"), link
    assert not [e for e in css_all(driver, "[role=alert]") if e.is_displayed()]
    # the same page at /dashboard; every asset local
    assert httpx.get(f"{server.base}/dashboard").text == httpx.get(f"{server.base}/").text
    assert not driver.execute_script(
        "return [...document.querySelectorAll('script[src], link[href]')]"
        ".map(e => e.src || e.href).filter(u => !u.startsWith(location.origin) && !u.startsWith('data:'))")

    # full-page screenshot: the window as tall as the page, then back
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    shot.unlink(missing_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1366, min(max(height, 1000), 8000))
    try:
        driver.execute_script("window.scrollTo(0, 0)")
        assert driver.save_screenshot(str(shot))
    finally:
        driver.set_window_size(1366, 1000)
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert severe(driver) == []


def test_filter_change_updates_charts_and_url_and_a_reload_restores_it(server, driver):
    from selenium.webdriver.support.ui import Select

    open_page(driver, server.base + "/")
    before_series = css(driver, "#stance-over-time").get_attribute("innerHTML")
    assert len(css_all(driver, "#source-ranking g.bar")) > 1

    Select(css(driver, "#filter-source")).select_by_value("Kind en Gezin")
    series = wait(driver, panel_done("#stance-over-time", query_has="source=Kind+en+Gezin"))
    sources = wait(driver, panel_done("#source-ranking", query_has="source=Kind+en+Gezin"))
    assert series.get_attribute("innerHTML") != before_series
    assert [b.get_attribute("data-group") for b in css_all(sources, "g.bar")] == ["Kind en Gezin"]
    assert query(driver)["source"] == ["Kind en Gezin"]

    Select(css(driver, "#filter-stance")).select_by_value("pressuring")
    wait(driver, panel_done("#document-list", query_has="stance=pressuring"))
    wait(driver, panel_done("#stance-over-time", query_has="stance=pressuring"))
    assert query(driver)["stance"] == ["pressuring"]
    # only pressuring sentences left: every bar is all pressuring
    for bar in css_all(driver, "#stance-over-time g.bar"):
        assert "100" in bar.get_attribute("aria-label")

    # a shared link: the same URL in a fresh page load restores the filters and the panels
    open_page(driver, driver.current_url)
    assert [o.get_attribute("value") for o in Select(css(driver, "#filter-source")).all_selected_options] == \
        ["Kind en Gezin"]
    assert Select(css(driver, "#filter-stance")).first_selected_option.get_attribute("value") == "pressuring"
    assert "source=Kind+en+Gezin" in css(driver, "#stance-over-time").get_attribute("data-query")
    assert [b.get_attribute("data-group") for b in css_all(driver, "#source-ranking g.bar")] == ["Kind en Gezin"]
    assert severe(driver) == []


def test_drill_down_shows_the_documents_evidence_sentences(server, driver):
    open_page(driver, server.base + "/")
    css(driver, "#document-list button.sort[data-sort=share_pressuring]").click()
    wait(driver, panel_done("#document-list", query_has="sort=-share_pressuring"))
    first = css(driver, "#document-list button.link")
    doc_id = first.get_attribute("data-doc-id")
    first.click()
    detail = wait(driver, panel_done("#document-detail"))
    assert detail.get_attribute("data-state") == "ready"
    assert query(driver)["doc"] == [doc_id]
    document = httpx.get(f"{server.base}/v1/dashboard/documents/{doc_id}").json()
    assert css(driver, "#document-heading").text == document["title"]

    marks = css_all(detail, "mark")
    evidence = [s for s in document["segments"] if s["evidence"]]
    assert marks and len(marks) == len(evidence)
    for mark, segment in zip(marks, evidence):
        assert mark.text.strip() and mark.text.strip() in " ".join(document["text"].split())
        item = mark.find_element("xpath", "./ancestor::li[1]")
        label = css(item, ".evidence-label")
        assert label.is_displayed()
        assert label.text.lower() == {"pressuring": "bewijs: onder druk zettend",
                                      "supportive": "bewijs: ondersteunend"}[segment["evidence"]]
    # every sentence with its own stance and scores
    assert len(css_all(detail, "ol.segments > li")) == len(document["segments"])
    assert css_all(detail, "ol.segments .badge")

    # a bar of the sources chart filters the document list to that source
    bar = css(driver, "#source-ranking g.bar")
    source = bar.get_attribute("data-group")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", bar)
    bar.click()
    wait(driver, panel_done("#document-list", query_has="source=" + source.replace(" ", "+")))
    assert css(driver, "#document-drill").is_displayed()
    assert {td.text for td in css_all(driver, "#document-list tbody tr td:nth-child(2)")} == {source}
    assert severe(driver) == []


def test_keyboard_focuses_a_chart_bar_and_enter_drills_down(server, driver):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_page(driver, server.base + "/")
    # on a fresh page the first Tab reaches the skip link, which leads to the content
    css(driver, "body").send_keys(Keys.TAB)
    skip = driver.switch_to.active_element
    assert skip.get_attribute("class") == "skip-link" and skip.is_displayed()
    assert skip.get_attribute("href").endswith("#main")

    # Tab from the control before the chart lands on its first bar
    csv_link = css(driver, "#timeseries-csv")
    driver.execute_script("arguments[0].focus()", csv_link)
    ActionChains(driver).send_keys(Keys.TAB).perform()
    bar = driver.switch_to.active_element
    assert bar.get_attribute("data-testid") == "time-bar"
    period = bar.get_attribute("data-period")
    ring = css(bar, ".focus-ring")
    assert driver.execute_script("return getComputedStyle(arguments[0]).stroke", ring) not in ("none", "")

    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait(driver, panel_done("#document-list", query_has=f"date_from={period}-01"))
    assert period in css(driver, "#document-drill-text").text
    dates = [td.text for td in css_all(driver, "#document-list tbody tr td:nth-child(4)")]
    assert dates and all(d.startswith(period) for d in dates)

    # every form control has a label
    unlabelled = driver.execute_script(
        "return [...document.querySelectorAll('select, input, textarea')]"
        ".filter(e => !e.labels || !e.labels.length).map(e => e.id)")
    assert unlabelled == []
    assert severe(driver) == []


def test_comparison_view_renders_the_report_and_shows_a_refusal(server, driver):
    from selenium.webdriver.support.ui import Select

    open_page(driver, server.base + "/")
    Select(css(driver, "#compare-preset")).select_by_value("parents")
    assert css(driver, "#compare-a").get_attribute("value") == "genre=interview"
    assert css(driver, "#compare-b").get_attribute("value") == "genre=policy"
    css(driver, "#compare-run").click()
    frame = wait(driver, lambda d: css(d, "#compare-report").get_attribute("data-state") == "ready"
                 and css(d, "#compare-report"), timeout=90)
    assert "<h1>Ouders vs Instellingen</h1>" in frame.get_attribute("srcdoc")
    assert frame.get_attribute("sandbox") == ""  # sandboxed, scripts not allowed
    assert frame.is_displayed()

    # a filter that selects nothing: the API's 422 message in the panel
    css(driver, "#compare-a").clear()
    css(driver, "#compare-a").send_keys("genre=geen")
    css(driver, "#compare-run").click()
    error = wait(driver, lambda d: css(d, "#compare-error").is_displayed() and css(d, "#compare-error"))
    assert "genre=geen" in error.text and error.get_attribute("role") == "alert"
    assert severe(driver, network=False) == []  # the 422 itself is logged by the browser as a failed request


def test_language_toggle_switches_labels_to_english(server, driver):
    from selenium.webdriver.support.ui import Select

    open_page(driver, server.base + "/?lang=nl")
    assert css(driver, "#timeseries-heading").text == "Stance over de tijd"
    css(driver, "#lang-toggle").click()
    wait(driver, lambda d: d.execute_script("return document.documentElement.lang") == "en")
    assert css(driver, "#timeseries-heading").text == "Stance over time"
    assert css(driver, "label[for=filter-source]").text == "Source"
    frames = [o.text for o in Select(css(driver, "#filter-frame")).options]
    assert "Determinism and irreversibility" in frames
    assert "pressuring" in css(driver, "#stance-over-time g.bar").get_attribute("aria-label")
    assert query(driver)["lang"] == ["en"]
    open_page(driver, driver.current_url)
    assert css(driver, "#timeseries-heading").text == "Stance over time"
    assert css(driver, "#lang-toggle").text == "Nederlands"
    assert severe(driver) == []
