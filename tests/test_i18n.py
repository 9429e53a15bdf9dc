"""Every string a patient reads has its French: the catalogue, the compiled file and the source agree."""
from __future__ import annotations

import re

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from careplan import REPOSITORY

TRANSLATIONS = REPOSITORY / "careplan" / "translations"
FRENCH_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
FRENCH_MO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _source_messages() -> set:
    """What `make translations` would extract from the code, templates and data today."""
    with open(REPOSITORY / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(REPOSITORY), method_map, options_map,
                                                                       keywords=keywords):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _translated(string) -> bool:
    return bool(string) and (isinstance(string, str) or all(string))


def test_every_string_in_the_catalogue_template_has_its_french():
    template = read_po(open(TRANSLATIONS / "messages.pot", "rb"))
    french = read_po(open(FRENCH_PO, "rb"), locale="fr")
    missing = [m.id for m in template if m.id and (french.get(m.id) is None or not _translated(french[m.id].string)
                                                    or french[m.id].fuzzy)]
    assert missing == [], f"translate these in {FRENCH_PO.name}: {missing}"


def test_every_string_of_the_source_is_in_the_compiled_french():
    """A new gettext string without `make translations` and its French fails here."""
    compiled = read_mo(open(FRENCH_MO, "rb"))
    known = {(m.id[0] if isinstance(m.id, (tuple, list)) else m.id) for m in compiled if m.id and _translated(m.string)}
    missing = sorted(_source_messages() - known)
    assert missing == [], f"run `make translations` and translate: {missing}"


def test_the_french_keeps_every_placeholder():
    for message in read_po(open(FRENCH_PO, "rb"), locale="fr"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (message.id, string)


def test_staff_pages_go_through_the_same_gettext(client, auth, monkeypatch):
    """Staff pages speak English today, but their words are marked and translated: switching the staff's
    language shows the French of the desk's, the clinician's and the administrator's pages."""
    from careplan import i18n

    desk, clinician, admin = auth("front_desk"), auth("provider"), auth("admin")
    assert "Plans waiting to be scheduled" in client.get("/desk", headers=desk).text
    monkeypatch.setattr(i18n, "STAFF_LANGUAGE", "fr")
    assert "Plans en attente de planification" in client.get("/desk", headers=desk).text
    assert "<h1>Admettre un patient</h1>" in client.get("/desk/patients/new", headers=desk).text
    week = client.get("/me/week", headers=clinician).text
    # Plain words and sentences with values in them alike.
    assert "Ma semaine" in week and "Semaine du " in week
    assert "Modèles de protocole en vigueur" in client.get("/admin/templates", headers=admin).text
