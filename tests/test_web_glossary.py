from rareflow.web.glossary import dashboard_terms


def test_dashboard_glossary_is_read_in_page_order_with_plain_text() -> None:
    terms = dashboard_terms()
    assert terms[0][0] == "t REO"
    assert all(term and definition and "<" not in definition for term, definition in terms)
    assert len({term for term, _ in terms}) == len(terms)
