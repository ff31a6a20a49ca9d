"""Topic curation and topic shares in the dashboard, in a real browser (the system Chromium, selenium, a real
uvicorn serving the demo store; the set-up of test_dashboard_browser.py, whose fixtures this module reuses). By
keyboard only: tick two topics, type a label and the API key, merge; the page then shows the new version, and the
old one is still in the topic-model select."""

from __future__ import annotations

import shutil

import pytest
from conftest import UvicornServer
from test_dashboard_browser import browser_available, driver, open_page, severe, wait  # noqa: F401  (fixtures)

from discourse.topics import curation
from discourse.topics.service import model_path

pytestmark = pytest.mark.encoder
KEY = "browser-key"


@pytest.fixture(scope="module")
def server(browser_available, copy_demo_store, demo_topic_model, tmp_path_factory):  # noqa: F811
    server = UvicornServer(tmp_path_factory.mktemp("topics-browser") / "server.log",
                           {"DISCOURSE_API_DATABASE_URL": copy_demo_store(), "DISCOURSE_API_API_KEYS": f'["{KEY}"]'})
    try:
        yield server.wait_ready()
    finally:
        server.stop()
        for version in curation.versions(demo_topic_model):
            if version != demo_topic_model:
                shutil.rmtree(model_path(version), ignore_errors=True)


def test_merge_two_topics_by_keyboard_and_see_shares(server, driver, demo_topic_model):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    open_page(driver, f"{server.base}/?topic_model={demo_topic_model}&lang=en")
    wait(driver, lambda d: d.find_element(By.ID, "topic-shares").get_attribute("data-state") in ("ready", "empty"))
    form = driver.find_element(By.ID, "topic-curation")
    assert form.is_displayed()
    picks = driver.find_elements(By.CSS_SELECTOR, "#topic-list .topic-pick")
    assert len(picks) >= 2
    before = len(picks)
    for pick in picks[:2]:  # focus and Space: what a keyboard user does
        driver.execute_script("arguments[0].focus()", pick)
        pick.send_keys(Keys.SPACE)
    label = driver.find_element(By.ID, "curate-label")
    label.send_keys("samen genomen")
    label.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys(KEY)  # the key field follows the label field
    driver.find_element(By.ID, "curate-merge").send_keys(Keys.ENTER)
    status = driver.find_element(By.ID, "curate-status")
    wait(driver, lambda d: "Saved as" in status.text, message=f"no confirmation: {status.text!r}")
    new_name = status.text.split("Saved as ", 1)[1].split(";")[0]
    assert new_name == f"{demo_topic_model}.v2"
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#topic-list .topic-pick")) == before - 1
         and "samen genomen" in d.find_element(By.ID, "topic-list").text)
    models = [o.get_attribute("value") for o in
              driver.find_elements(By.CSS_SELECTOR, "#filter-topic-model option")]
    assert demo_topic_model in models and new_name in models
    assert f"topic_model={new_name}" in driver.current_url
    wait(driver, lambda d: d.find_element(By.ID, "topic-shares").get_attribute("data-state") in ("ready", "empty"))
    assert severe(driver, network=False) == []


def test_merge_without_a_key_says_why(server, driver, demo_topic_model):  # noqa: F811
    from selenium.webdriver.common.by import By

    open_page(driver, f"{server.base}/?topic_model={demo_topic_model}&lang=en")
    driver.find_element(By.ID, "curate-merge").click()
    error = driver.find_element(By.ID, "curate-error")
    assert error.is_displayed() and "at least two" in error.text
    for pick in driver.find_elements(By.CSS_SELECTOR, "#topic-list .topic-pick")[:2]:
        pick.click()
    driver.find_element(By.ID, "curate-merge").click()
    wait(driver, lambda d: "X-API-Key" in error.text, message=f"no 401 message: {error.text!r}")
