"""Pages to passages: Markdown in its site-generator flavours, HTML, text; heading paths,
anchors and public URLs."""

from __future__ import annotations

from bot.knowledge.ingest import Undecodable, decode
from bot.knowledge.links import page_url
from bot.knowledge.parsing import parse_page
from bot.knowledge.sections import Section, cut

HUGO = """---
title: Moving or leaving accounts
description: "Take your information with you."
aliases: [
  "/usage/moving",
]
menu:
  docs:
    weight: 100
---

## Exporting your information {#export}

{{< figure src="assets/export.png" caption="The data export page" >}}

Go to Settings &gt; Import and export. See the [migration guide]({{< relref "migrating" >}}).

{{< hint style="warning" >}}
You can request an archive once every 7 days.
{{< /hint >}}

```bash
# not a heading: a shell comment
tootctl accounts backup
```

### Profile move

Moving your account ![diagram](move.png) redirects followers.
<!-- an editor's note -->
"""

DOCUSAURUS = """---
slug: /billing/vat
title: VAT
---
import Tabs from '@theme/Tabs';
import TabItem from '@theme/TabItem';

# VAT

<Tabs>
<TabItem value="eu" label="EU">

Change your VAT ID under **Billing**.

</TabItem>
</Tabs>

:::tip[Good to know]
Invoices show the VAT ID from the next month.
:::

<details>
<summary>Why a VAT ID?</summary>

Businesses in the EU reclaim VAT with it.
</details>

<style>
.hidden { display: none }
</style>
"""


def test_hugo_page_keeps_what_a_reader_sees() -> None:
    page = parse_page(
        HUGO, path="/d/content/en/user/moving.md", name="content/en/user/moving.md",
        url_base="https://docs.example.org/",
    )  # fmt: skip
    assert page.title == "Moving or leaving accounts"
    assert page.url == "https://docs.example.org/user/moving/"
    text = "\n".join(p.text for p in page.passages)
    assert text.startswith("Take your information with you.")  # the description leads
    assert "The data export page" in text  # a shortcode's caption is text
    assert "Settings > Import and export. See the migration guide." in text
    assert "once every 7 days" in text  # inside a paired shortcode
    assert "tootctl accounts backup" in text and "# not a heading" in text
    for gone in ("{{", "relref", "figure", "move.png", "diagram", "editor's note", "weight"):
        assert gone not in text
    # A short section and the one below it are one passage; the sub-heading is a line of it.
    [passage] = page.passages
    assert (passage.headings, passage.anchor) == (("Exporting your information",), "export")
    assert "\n\nProfile move\nMoving your account  redirects followers." in passage.text


def test_mdx_page_drops_imports_and_component_tags_but_not_their_text() -> None:
    page = parse_page(DOCUSAURUS, path="/d/docs/billing/vat.mdx", name="docs/billing/vat.mdx",
                      url_base="https://example.com")  # fmt: skip
    assert page.title == "VAT"
    assert page.url == "https://example.com/billing/vat/"  # the slug from the base
    text = "\n".join(p.text for p in page.passages)
    assert "Change your VAT ID under **Billing**." in text
    assert "Good to know" in text and "Invoices show the VAT ID" in text
    assert "Why a VAT ID?" in text and "reclaim VAT" in text
    for gone in ("import", "Tabs", "TabItem", ":::", "<details>", "display: none"):
        assert gone not in text
    assert all(p.headings == () for p in page.passages)  # the H1 repeats the title


def test_long_sections_are_cut_and_small_ones_joined_under_their_heading() -> None:
    long = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(12))
    sections = [
        Section(("Attributes",), "attributes", "The fields."),
        Section(("Attributes", "id"), "id", "The id, a string."),
        Section(("Attributes", "bot"), "bot", "True for automated accounts."),
        Section(("Guide",), "guide", long),
    ]
    passages = cut(sections, limit=1200)
    assert passages[0].headings == ("Attributes",)
    assert passages[0].text == (
        "The fields.\n\nid\nThe id, a string.\n\nbot\nTrue for automated accounts."
    )
    guide = [p for p in passages if p.headings == ("Guide",)]
    assert len(guide) > 3 and all(len(p.text) <= 1200 for p in guide)
    assert " ".join(p.text for p in guide).split() == long.split()  # nothing lost
    assert [p.position for p in passages] == list(range(len(passages)))


def test_html_page_has_its_title_headings_and_no_navigation() -> None:
    ask = "Ask within 30 days of the payment. " * 12
    page = parse_page(
        "<html><head><title>Refunds | Acme Help</title><meta name='description' content='Money "
        "back.'><script>var x = 1;</script></head><body><nav>Home Pricing</nav><h1>Refunds</h1>"
        f"<p>{ask}</p><h2 id='cards'>Card payments</h2><p>Back in 5 days.</p>"
        "<footer>© Acme</footer></body></html>",
        path="/d/refunds.html", name="help/refunds.html", url_base="https://help.acme.test/",
    )  # fmt: skip
    assert page.title == "Refunds | Acme Help"
    assert page.url == "https://help.acme.test/help/refunds.html"
    assert [(p.headings, p.anchor, p.text) for p in page.passages] == [
        (("Refunds",), "", f"Money back.\n\n{ask.strip()}"),
        (("Refunds", "Card payments"), "cards", "Back in 5 days."),
    ]


def test_plain_text_is_one_section_titled_by_its_file_name() -> None:
    page = parse_page("Reset it from the login page.", path="/d/reset-password.txt",
                      name="reset-password.txt")  # fmt: skip
    assert (page.title, page.url) == ("Reset password", None)
    assert [p.text for p in page.passages] == ["Reset it from the login page."]


def test_urls_follow_hugo_and_docusaurus() -> None:
    base = "https://docs.example.org"
    assert page_url(base, "content/en/user/moving.md", {}) == f"{base}/user/moving/"
    assert page_url(base, "content/en/admin/_index.md", {}) == f"{base}/admin/"
    assert page_url(base, "content/en/_index.md", {}) == f"{base}/"
    assert page_url(base, "docs/02-guides/01-setup.mdx", {}) == f"{base}/docs/guides/setup/"
    assert page_url(base, "docs/intro.md", {"slug": "start"}) == f"{base}/docs/start/"
    assert page_url(base, "posts/x.md", {"url": "/custom/path/"}) == f"{base}/custom/path/"
    assert page_url(base, "guides/README.md", {}) == f"{base}/guides/"


def test_text_is_decoded_or_named_as_binary_or_undecodable() -> None:
    assert decode("Café".encode()) == "Café"
    assert decode(b"\xef\xbb\xbfTitle") == "Title"
    assert decode("Hi".encode("utf-16")) == "Hi"
    binary = decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert isinstance(binary, Undecodable) and "binary" in binary.reason
    latin = decode("Caf\xe9 au lait".encode("latin-1"))
    assert isinstance(latin, Undecodable) and "not UTF-8 text (byte 3" in latin.reason
