"""Build the `holiday-calendar` policy version of 2021 from the real lists in
../shared/domain/calendars/ (DoPT OM F.No. 12/9/2020-JCA-2 for Delhi, CGEWCC Ahmedabad
for Gujarat), so the policy file is never typed by hand.

    uv run python services/be-intake/scripts/build_holiday_calendar.py [--check]

A test fails when the committed file differs from what this script builds.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVICE = HERE.parent
POLICY = SERVICE / "src" / "be_intake" / "policies" / "holiday-calendar.v2.json"
CALENDARS = SERVICE.parents[2] / "shared" / "domain" / "calendars"
DELHI = "central-government-closed-holidays-2021-delhi.csv"
GUJARAT = "central-government-closed-holidays-2021-gujarat.csv"

# DoPT OM para 2: the 14 holidays compulsory for every central government office.
COMPULSORY = (
    "Republic Day", "Independence Day", "Mahatma Gandhi's Birthday", "Buddha Purnima",
    "Christmas Day", "Dussehra", "Diwali (Deepavali)", "Good Friday", "Guru Nanak's Birthday",
    "Id-ul-Fitr", "Id-ul-Zuha (Bakrid)", "Mahavir Jayanti", "Muharram",
    "Milad-un-Nabi (Id-e-Milad)",
)  # fmt: skip

# Custom house -> list. Delhi: the air cargo complex and the ICDs at Delhi (Tughlakabad,
# Patparganj); Gujarat: Mundra and Kandla (calendars/README.md). Every other custom house
# (Maharashtra's INNSA1 and INBOM4, Tamil Nadu, West Bengal, Karnataka, ...) takes the 14
# compulsory holidays only: its state's three additions are not in shared/ and are for an
# administrator to add as a new version.
CUSTOM_HOUSES = {
    "INDEL4": "delhi", "INTKD6": "delhi", "INPPG6": "delhi",
    "INMUN1": "gujarat", "INIXY1": "gujarat",
}  # fmt: skip


def _read(name: str) -> list[dict[str, str]]:
    with (CALENDARS / name).open(newline="", encoding="utf-8") as handle:
        return [{"date": row["date"], "holiday": row["holiday"]} for row in csv.DictReader(handle)]


def build() -> dict[str, object]:
    delhi, gujarat = _read(DELHI), _read(GUJARAT)
    compulsory = [row for row in delhi if row["holiday"] in COMPULSORY]
    if len(compulsory) != len(COMPULSORY):
        raise SystemExit(f"the Delhi list lacks compulsory holidays: {len(compulsory)} found")
    return {
        "policy_id": "holiday-calendar",
        "version": 2,
        "effective_from": "2021-01-01",
        "effective_until": "2022-01-01",
        "source_document": (
            "DoPT OM F.No. 12/9/2020-JCA-2 (10 June 2020) Annexure I (Delhi); CGEWCC Ahmedabad "
            "Holiday List 2020-21 (27 Nov 2020) Annexure I (Gujarat); shared/domain/calendars"
        ),
        "description": (
            "Central government closed holidays of 2021 per custom house. Sundays are weekly "
            "rest days; Saturdays are working days for the filing deadline (a policy setting). "
            "Custom houses outside Delhi and Gujarat: the 14 compulsory holidays only, their "
            "state's three additional holidays not being known (an administrator adds them)."
        ),
        "body": {
            "weekly_rest_days": ["sunday"],
            "lists": {
                "delhi": {"source": f"calendars/{DELHI}", "holidays": delhi},
                "gujarat": {"source": f"calendars/{GUJARAT}", "holidays": gujarat},
                "compulsory-only": {
                    "source": f"the 14 compulsory holidays (DoPT OM para 2) of calendars/{DELHI}",
                    "holidays": compulsory,
                },
            },
            "custom_houses": CUSTOM_HOUSES,
            "default_list": "compulsory-only",
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        same = POLICY.exists() and POLICY.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{POLICY} differs from the lists")
        return 0 if same else 1
    POLICY.write_text(text, encoding="utf-8")
    print(f"wrote {POLICY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
