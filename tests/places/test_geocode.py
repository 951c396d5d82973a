"""geo.places.gazetteer ranking and resolve(), and geo.places.geocode: offline default,
Nominatim rate-limited and cached. No test touches the network: Nominatim is always a fake
provider, or a real geopy object that is only inspected."""

import sqlite3
import threading

import pytest
from geopy.exc import GeocoderServiceError, GeocoderTimedOut
from geopy.geocoders import Nominatim
from geopy.location import Location

from geo.places import gazetteer, geocode
from geo.places.gazetteer import (
    GeocodeError,
    GeocoderUnavailable,
    Place,
    Resolution,
    candidates,
    is_ambiguous,
    region_tier,
    resolve,
)
from geo.places.geocode import (
    NOMINATIM_LIMITER,
    Geocoder,
    NominatimGeocoder,
    OfflineGeocoder,
    _geo_precision,
    _prepare_result,
    get_geocoder,
)
from geo.places.names import find_alias
from geo.settings import Settings

# ----------------------------------------------------------------- gazetteer: ranking examples


def test_tovuz_is_the_azerbaijani_town_and_not_ambiguous():
    r = resolve("Tovuz")
    assert (r.best.name, r.best.country, r.best.matched) == ("Tovuz", "AZ", "primary")
    assert {p.name for p in r.alternatives} >= {"Tavush"}  # Tavush only has it as alternate name
    assert not r.ambiguous


def test_fuzuli_is_the_district_town_not_the_village_near_tovuz():
    r = resolve("Fuzuli")
    assert r.best.population == 25100 and r.best.region_tier == 0
    village = [p for p in r.alternatives if p.name == "Fuzuli"]
    assert len(village) == 1 and village[0].population == 800 and village[0].region_tier == 1
    # The town is both in the conflict area and larger: a clear winner.
    assert not r.ambiguous


def test_martuni_is_khojavend_in_karabakh_with_gegharkunik_as_alternative():
    r = resolve("Martuni")
    assert (r.best.name, r.best.country, r.best.region_tier) == ("Khojavend", "AZ", 0)
    assert 39.7 < r.best.latitude < 39.9 and 47.0 < r.best.longitude < 47.2
    gegharkunik = r.alternatives[0]
    assert (gegharkunik.name, gegharkunik.country, gegharkunik.population) == (
        "Martuni",
        "AM",
        12034,
    )
    assert gegharkunik.admin1 == "04"  # GeoNames AM.04 = Gegharkunik
    # Khojavend wins on region only; the Armenian town is larger: flag it.
    assert r.ambiguous and r.geo_precision == 1


def test_khojavend_is_not_ambiguous_though_its_alias_is():
    # Only the alias table links "Khojavend" to the Martunis of Gegharkunik.
    r = resolve("Khojavend")
    assert r.best == resolve("Martuni").best and not r.ambiguous


def test_martuni_seen_in_both_geonames_files_is_listed_once():
    towns = [p for p in candidates("Martuni") if p.country == "AM" and p.latitude < 40.5]
    assert len(towns) == 1 and towns[0].source == "geonames-cities500"


def test_stepanakert_and_khankendi_are_one_place():
    a, b = resolve("Stepanakert").best, resolve("Khankendi").best
    assert a == b and a.region_tier == 0


@pytest.mark.parametrize("name", ["Hadrut", "Martakert"])
def test_towns_missing_from_cities500_come_from_cities1000(name):
    r = resolve(name)
    assert r.best.source == "geonames-cities1000" and r.best.region_tier == 0
    assert r.geo_precision == 1 and not r.ambiguous


@pytest.mark.parametrize("name", ["Atlantisovka-na-Tartare", "", "   "])
def test_unknown_or_blank_name_has_no_best(name):
    assert resolve(name) == Resolution(best=None, alternatives=[], ambiguous=False)
    assert resolve(name).geo_precision is None


def test_locate_still_raises_for_an_unknown_place():
    with pytest.raises(GeocodeError, match="Atlantisovka"):
        gazetteer.locate("Atlantisovka", "AZ")


def test_country_restricts_the_candidates():
    r = resolve("Martuni", "AM")
    assert r.best.country == "AM" and r.best.population == 12034
    assert all(p.country == "AM" for p in r.alternatives)


@pytest.mark.parametrize(
    ("lat", "lon", "country", "tier"),
    [
        (39.8177, 46.7528, "AZ", 0),  # Stepanakert / Khankendi
        (40.3758, 47.1262, "AZ", 0),  # Barda, a surrounding district
        (40.3777, 49.8920, "AZ", 1),  # Baku
        (39.2089, 45.4122, "AZ", 1),  # Nakhchivan
        (39.5070, 46.3382, "AM", 1),  # Goris: inside the box, but in Armenia
        (40.1777, 44.5126, "AM", 1),  # Yerevan
        (41.6914, 44.8341, "GE", 2),  # Tbilisi
        (39.9199, 32.8543, "TR", 3),  # Ankara
    ],
)
def test_region_tier(lat, lon, country, tier):
    assert region_tier(lat, lon, country) == tier
    assert Place("x", lat, lon, country, None, "test", None, "primary").region_tier == tier


def _p(name, country, admin1, population, lat=40.0, lon=46.0, matched="primary"):
    return Place(name, lat, lon, country, population, "test", None, matched, admin1)


def test_ambiguity_rule():
    best = _p("A", "AZ", "01", 5000, lat=39.8, lon=46.8)  # tier 0
    # same place listed twice (same admin area): never ambiguous
    assert not is_ambiguous([best, _p("A", "AZ", "01", 9000, lat=39.81)])
    # a competitor only matched by an alternate name: not ambiguous
    assert not is_ambiguous([best, _p("A", "AM", "04", 90000, matched="alternate")])
    # lower tier and smaller: best wins on both counts
    assert not is_ambiguous([best, _p("A", "AM", "04", 4000)])
    # lower tier but larger: best wins on region only
    assert is_ambiguous([best, _p("A", "AM", "04", 12000)])
    # unknown population counts as 0, as in the ranking
    assert not is_ambiguous([best, _p("A", "AM", "04", None)])
    assert is_ambiguous([_p("A", "AZ", "01", None, lat=39.8, lon=46.8), _p("A", "AM", "04", None)])
    # same tier, other admin area: only population separates them
    assert is_ambiguous([best, _p("A", "AZ", "02", 100, lat=39.5, lon=47.0)])
    assert not is_ambiguous([]) and not is_ambiguous([best])


def test_name_index_is_opened_once_per_process():
    gazetteer._index()
    before = gazetteer._index.cache_info()
    for name in ("Tovuz", "Martuni", "Shusha"):
        resolve(name)
    after = gazetteer._index.cache_info()
    assert after.misses == before.misses and after.hits >= before.hits + 3


# ------------------------------------------------------------- curated coordinate fallback

ALIAS_HEADER = (
    "key,armenian,azerbaijani,other_names,country,geonames_name,note,latitude,longitude\n"
)


@pytest.fixture
def curated_root(tmp_path, monkeypatch):
    """A repository root whose alias table has curated coordinates (values are made up)."""
    folder = tmp_path / "data" / "gazetteer"
    folder.mkdir(parents=True)
    (folder / "aliases.csv").write_text(
        ALIAS_HEADER + "mataghis,Mataghis,Sugovushan,Madagiz,AZ,,test row,40.1,46.6\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("NKMAP_ROOT", str(tmp_path))
    return folder / "aliases.csv"


def test_curated_coordinates_place_what_geonames_lacks(curated_root):
    r = resolve("Madagiz")
    assert (r.best.source, r.best.latitude, r.best.longitude) == ("curated-alias", 40.1, 46.6)
    assert r.best.name == "Sugovushan" and r.geo_precision == 1
    assert resolve("Sugovushan", "AM").best is None


def test_bad_curated_coordinate_names_the_row_and_column(tmp_path):
    path = tmp_path / "aliases.csv"
    path.write_text(ALIAS_HEADER + "x,X,X,,AZ,,,95,46\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"alias 'x', column 'latitude'.*'95'"):
        find_alias("X", path)


def test_committed_alias_rows_without_geonames_name_are_in_no_gazetteer():
    # Curated coordinates are only for places GeoNames lacks; none are verified offline yet.
    for name in ("Sugovushan", "Madagiz", "Zabukh", "Aghavno"):
        alias = find_alias(name)
        assert alias.geonames_name == "" and alias.latitude is None
        assert resolve(name).best is None
    assert find_alias("Martuni").geonames_name == "Khojavend"


# ---------------------------------------------------------------------- geocode front door


def test_offline_is_the_default_geocoder():
    g = get_geocoder()
    assert isinstance(g, OfflineGeocoder) and isinstance(g, Geocoder)
    assert g.geocode("Martuni") == resolve("Martuni")


def test_unknown_geocoder_names_the_choices():
    with pytest.raises(ValueError, match=r"'bing'.*'offline' or 'nominatim'"):
        get_geocoder("bing")


class FakeClock:
    """Fake monotonic time: sleep() advances it instantly and is recorded."""

    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            return self.now

    def sleep(self, seconds):
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def _location(name, lat, lon, country_code="az", addresstype="village", state="Tovuz District"):
    raw = {
        "lat": str(lat),
        "lon": str(lon),
        "name": name,
        "display_name": f"{name}, {state}, Azerbaijan",
        "addresstype": addresstype,
        "type": addresstype,
        "address": {"country_code": country_code, "state": state},
    }
    return Location(raw["display_name"], (lat, lon), raw)


_MADAGIZ = object()


class FakeProvider:
    """Stands in for geopy's Nominatim: records each call with its fake time."""

    def __init__(self, clock, answers=_MADAGIZ, error=None):
        self.clock = clock
        self.answers = [_location("Madagiz", 40.1, 46.6)] if answers is _MADAGIZ else answers
        self.error = error
        self.calls = []

    def geocode(self, query, **kwargs):
        self.calls.append((query, kwargs, self.clock()))
        if self.error:
            raise self.error
        return self.answers


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    NOMINATIM_LIMITER.reset()
    monkeypatch.setattr(NOMINATIM_LIMITER, "clock", fake)
    monkeypatch.setattr(NOMINATIM_LIMITER, "sleep", fake.sleep)
    yield fake
    NOMINATIM_LIMITER.reset()


@pytest.fixture
def cache_path(tmp_path):
    return tmp_path / "var" / "geocode-cache.sqlite"


def _nominatim(provider, cache_path):
    return NominatimGeocoder(provider=provider, cache_path=cache_path)


def test_two_threads_share_one_request_per_second(clock, cache_path):
    provider = FakeProvider(clock)
    g = _nominatim(provider, cache_path)
    start = threading.Barrier(2)

    def work(prefix):
        start.wait()
        for i in range(4):
            g.geocode(f"{prefix} {i}")

    threads = [threading.Thread(target=work, args=(p,)) for p in ("north", "south")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times = sorted(t for _, _, t in provider.calls)
    assert len(times) == 8
    assert all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False))


def test_every_nominatim_geocoder_shares_the_process_limiter(clock, cache_path, tmp_path):
    provider = FakeProvider(clock)
    first = _nominatim(provider, cache_path)
    second = _nominatim(provider, tmp_path / "other.sqlite")
    assert first.limiter is second.limiter is NOMINATIM_LIMITER
    first.geocode("Madagiz")
    second.geocode("Zabukh")
    (_, _, t1), (_, _, t2) = provider.calls
    assert t2 - t1 >= 1.0


def test_cached_name_makes_no_provider_call(clock, cache_path):
    provider = FakeProvider(clock)
    g = _nominatim(provider, cache_path)
    first = g.geocode("Madagiz", "AZ")
    assert g.geocode("  madagiz ", "az") == first
    assert len(provider.calls) == 1
    # A new geocoder on the same cache file (a new process, say) asks nobody either.
    fresh = FakeProvider(clock)
    assert _nominatim(fresh, cache_path).geocode("Madagiz", "AZ") == first
    assert fresh.calls == []
    assert first.best.source == "nominatim" and first.best.latitude == 40.1


@pytest.mark.parametrize(
    "error", [GeocoderTimedOut("timed out"), GeocoderServiceError("HTTP 502"), OSError("reset")]
)
def test_provider_failure_is_unavailable_and_not_cached(clock, cache_path, error):
    failing = FakeProvider(clock, error=error)
    with pytest.raises(GeocoderUnavailable, match="'madagiz' in AZ") as caught:
        _nominatim(failing, cache_path).geocode("Madagiz", "AZ")
    assert isinstance(caught.value, GeocodeError)
    working = FakeProvider(clock)
    assert _nominatim(working, cache_path).geocode("Madagiz", "AZ").best is not None
    assert len(working.calls) == 1


def test_no_match_is_an_answer_and_is_cached(clock, cache_path):
    provider = FakeProvider(clock, answers=None)
    r = _nominatim(provider, cache_path).geocode("Atlantis", "AZ")
    assert r == Resolution(best=None)
    again = FakeProvider(clock)
    assert _nominatim(again, cache_path).geocode("Atlantis", "AZ") == r
    assert again.calls == []


def test_request_is_biased_to_the_region(clock, cache_path):
    provider = FakeProvider(clock)
    g = _nominatim(provider, cache_path)
    g.geocode("Madagiz", "AZ")
    g.geocode("Madagiz")
    (_, with_country, _), (_, without, _) = provider.calls
    assert with_country["country_codes"] == ["az"]
    assert without["country_codes"] == ["am", "az", "ge"]
    assert with_country["viewbox"] == geocode.REGION_VIEWBOX and not with_country["bounded"]
    assert with_country["timeout"] == 10.0 and with_country["exactly_one"] is False


def test_cache_is_one_wal_table_keyed_by_provider_query_country(clock, cache_path):
    g = _nominatim(FakeProvider(clock), cache_path)
    assert not cache_path.exists()  # nothing is written before the first geocode
    g.geocode("Madagiz", "AZ")
    g.geocode("Madagiz")
    with sqlite3.connect(cache_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = conn.execute(
            "SELECT provider, query, country, fetched_at FROM geocode_cache ORDER BY country"
        ).fetchall()
    assert [r[:3] for r in rows] == [("nominatim", "madagiz", ""), ("nominatim", "madagiz", "AZ")]
    assert all(r[3] for r in rows)


def test_nominatim_gets_our_user_agent_and_timeout(cache_path):
    settings = Settings(nominatim_user_agent="nkmap-test/1 (test)", geocode_cache=cache_path)
    g = NominatimGeocoder(settings=settings)
    assert isinstance(g.provider, Nominatim)
    assert g.provider.headers["User-Agent"] == "nkmap-test/1 (test)"
    assert g.provider.timeout == 10.0
    assert g.cache.path == cache_path


def test_user_agent_and_cache_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NKMAP_NOMINATIM_USER_AGENT", "env-agent/2")
    monkeypatch.setenv("NKMAP_GEOCODE_CACHE", str(tmp_path / "c.sqlite"))
    g = get_geocoder("nominatim")
    assert g.provider.headers["User-Agent"] == "env-agent/2"
    assert g.cache.path == tmp_path / "c.sqlite"


def test_default_settings_identify_the_app_and_cache_under_var(monkeypatch, tmp_path):
    for var in ("NKMAP_NOMINATIM_USER_AGENT", "NKMAP_GEOCODE_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NKMAP_VAR_DIR", str(tmp_path))
    s = Settings.from_env()
    assert s.nominatim_user_agent.startswith("nkmap/")
    assert s.geocode_cache == tmp_path / "geocode-cache.sqlite"


def test_prepare_result_turns_a_geopy_location_into_a_place():
    place = _prepare_result(_location("Madagiz", 40.1, 46.6, state="Tartar District"), "madagiz")
    assert place == Place("Madagiz", 40.1, 46.6, "AZ", None, "nominatim", None, "primary")
    assert place.admin1 == "Tartar District" and place.region_tier == 0
    other = _prepare_result(_location("Khankendi", 39.8, 46.75), "Stepanakert")
    assert other.matched == "alternate"


def test_prepare_result_reads_the_population_tag_and_tolerates_junk():
    loc = _location("Barda", 40.37, 47.12)
    loc.raw["extratags"] = {"population": "41600"}
    assert _prepare_result(loc).population == 41600
    loc.raw["extratags"] = {"population": "about 40k"}
    assert _prepare_result(loc).population is None


@pytest.mark.parametrize(
    ("addresstype", "precision"), [("village", 1), ("town", 1), ("county", 2), ("state", 3)]
)
def test_geo_precision_of_a_nominatim_answer(addresstype, precision):
    assert _geo_precision(_location("x", 40.0, 46.0, addresstype=addresstype)) == precision


def test_nominatim_ranks_the_region_first_and_flags_competitors(clock, cache_path):
    answers = [
        _location(
            "Martuni", 40.14, 45.30, country_code="am", state="Gegharkunik", addresstype="town"
        ),
        _location("Martuni", 39.79, 47.11, state="Khojavend District"),
    ]
    r = _nominatim(FakeProvider(clock, answers=answers), cache_path).geocode("Martuni")
    assert r.best.country == "AZ" and r.alternatives[0].country == "AM"
    assert r.ambiguous and r.geo_precision == 1
