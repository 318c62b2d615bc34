"""The ICES 1.5 BE message format v2.23 (NIC), as data: per segment, every field with its
number, name, type, length and whether it is mandatory (M), a key (K), optional (O), fixed
(F: the message type) or not wanted (X) in each mode: Final (F, CACHI01), Amendment (A),
Supplement (S) and Delete (D) (CACHI01_A). Copied from the spec's tables
(`../shared/domain/icegate/ices-1.5-be-message-format-2.23.txt`; pages cited per segment),
not invented; a "-" is a mode the spec's table has no column for (the record type is not
accepted there).

Lengths: `C 35` is up to 35 characters; `N 16,2` is a number of up to 16 digits of which 2
after the decimal point (the spec's notation); `N 7` an integer of up to 7 digits; `D` a
date `YYYYMMDD` (spec p. 10, "All dates needs to be entered in YYYYMMDD format").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: ASCII 29, the field delimiter (spec p. 10, "Field delimiter: ASCII Chr 29: ^]").
DELIMITER: Final = "\x1d"
#: HREC's version field (spec p. 9: "Currently it is 'ICES1_5'").
VERSION: Final = "ICES1_5"
FRESH: Final = "CACHI01"
AMENDMENT: Final = "CACHI01_A"
ACKNOWLEDGEMENT: Final = "CHCAI02"
PROCESSED: Final = "CHCAI04"
OUT_OF_CHARGE: Final = "CHCAI07"
MODES: Final = ("F", "A", "S", "D")


@dataclass(frozen=True, slots=True)
class Field:
    no: int
    name: str
    type: str  # C, N or D (date)
    length: int  # characters (C), total digits (N); 8 for a date
    scale: int  # digits after the decimal point (N)
    modes: dict[str, str]  # mode -> M, K, O, F or X

    def presence(self, mode: str) -> str:
        return self.modes.get(mode, "X")


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    part: str
    page: int
    fields: tuple[Field, ...]
    modes: tuple[str, ...]  # the record types (modes) the spec gives a column for

    def field(self, no: int) -> Field:
        return self.fields[no - 1]


def _segment(name: str, part: str, page: int, columns: str, table: str) -> Segment:
    modes = tuple(columns.split())
    fields = []
    for line in table.strip().splitlines():
        no, label, kind, length, presence = (part.strip() for part in line.split("|"))
        digits, _, scale = length.partition(",")
        marks = presence.split()
        assert len(marks) == len(modes), line
        fields.append(
            Field(
                int(no),
                label,
                kind,
                8 if kind == "D" else int(digits),
                int(scale or 0),
                dict(zip(modes, marks, strict=True)),
            )
        )
    assert [f.no for f in fields] == list(range(1, len(fields) + 1)), name
    return Segment(name, part, page, tuple(fields), modes)


# Part 1/24, pp. 13-14: columns Final, Amendment (Ex-bond and SEZ columns not taken).
BE = _segment(
    "BE",
    "CACHI01 Part 1/24",
    13,
    "F A",
    """
1|Message type|C|1|F A
2|Custom House Code|C|6|K K
3|User Job No.|N|7|K X
4|User Job Date|D|0|K X
5|BE Number|N|7|X K
6|BE Date|D|0|X K
7|BE Type|C|4|M O
8|IEC Code|C|10|M O
9|Branch Sr. No.|N|3|M O
10|Name of the importer|C|50|O O
11|Address 1|C|35|O O
12|Address 2|C|35|O O
13|City|C|35|O O
14|State|C|25|O O
15|Pin|C|6|O O
16|Class|C|1|M O
17|Mode of Transport (L/S/A)|C|1|M O
18|ImporterType|C|1|M O
19|Kachcha BE (Y/N)|C|1|M O
20|High sea sale flag (Y/N)|C|1|M O
21|Port of Origin|C|6|M O
22|CHA Code|C|15|M X
23|Country of Origin|C|2|M O
24|Country of Consignment|C|2|M O
25|Port Of Shipment|C|6|M O
26|Green Channel Requested(Y/N)|C|1|M O
27|Section 48 Requested (Y/N)|C|1|M O
28|Whether Prior BE (Y/N)|C|1|M O
29|Authorized Dealer Code|C|10|M M
30|First Check Requested (Y/N)|C|1|M O
31|Warehouse Code|C|8|O O
32|Warehouse Customs Site ID|N|6|O O
33|Ware house BE No|C|7|O O
34|Ware house BE Date|D|0|O O
35|No of packages released|N|8|O O
36|Package Code|C|3|O O
37|Gross Weight|N|12,3|O O
38|Unit of Measurement|C|3|O O
39|Additional Charges: Purchase on High seas|N|6,2|O O
40|Miscellaneous load|N|6,2|O O
41|Unique Consignment Reference No. (UCR)|C|35|O O
42|UCR Type|C|6|O O
43|Payment method code|C|1|M M
""",
)

# Part 2/24, p. 17: Final only.
EXCHANGE = _segment(
    "EXCHANGE",
    "CACHI01 Part 2/24",
    17,
    "F",
    """
1|Message type|C|1|F
2|Custom House Code|C|6|K
3|User Job No.|N|7|K
4|User Job Date|D|0|K
5|BE Number|N|7|X
6|BE Date|D|0|X
7|Currency Code|C|3|K
8|Standard Currency (Y/N)|C|1|M
9|Unit in Rs.|N|7,2|O
10|Rate|N|9,4|O
11|Effective Date|D|0|O
12|Bank name for non-standard currency|C|35|O
13|Certificate Number|C|20|O
14|Certificate date|D|0|O
""",
)

# Part 4/24, pp. 19-21: Final, Amendment, Supplement, Delete.
INVOICE = _segment(
    "INVOICE",
    "CACHI01 Part 4/24",
    19,
    "F A S D",
    """
1|Message type|C|1|F A S D
2|Custom House Code|C|6|K K K K
3|User Job No.|N|7|K X X X
4|User Job Date|D|0|K X X X
5|BE Number|N|7|X K K K
6|BE Date|D|0|X K K K
7|Invoice Serial Number|N|5|K K K K
8|Invoice Date|D|0|O O M X
9|Purchase Order Number|C|20|O O O X
10|Purchase Order Date|D|0|O O O X
11|Contract Number|C|20|O O O X
12|Contract Date|D|0|O O O X
13|LC Number|C|20|O O O X
14|LC Date|D|0|O O O X
15|SVB Reference Number|C|20|O O O X
16|SVB Reference Date|D|0|O O O X
17|SVB load Assessable Value|N|10,5|O O O X
18|SVB load on duty|N|10,5|O O O X
19|SVB flag|C|1|O O O X
20|Whether load Final / Provisional on Ass. Value|C|1|O O O X
21|Whether load Final / Provisional on duty|C|1|O O O X
22|Custom House Code which has imposed load|C|6|O O O X
23|Supplier(Exporter) Name|C|100|M O M X
24|Supplier Address 1|C|100|O O M X
25|Address 2|C|100|O O O X
26|Address 3|C|100|O O O X
27|Supplier Country Name|C|25|O O O X
28|PIN/ZIP|C|10|O O O X
29|Seller Name|C|100|O O O X
30|Seller Address 1|C|100|O O O X
31|Seller Address 2|C|100|O O O X
32|Seller Address 3|C|100|O O O X
33|Seller Country Name|C|35|O O O X
34|Seller Pin|C|10|O O O X
35|Broker Name|C|50|O O O X
36|Broker Address 1|C|35|O O O X
37|Broker Address 2|C|35|O O O X
38|Broker Address 3|C|35|O O O X
39|Broker Country|C|35|O O O X
40|Broker Pin|C|10|O O O X
41|Invoice value|N|16,2|M O M X
42|Terms of invoice|C|3|M O M X
43|Invoice currency|C|3|M O M X
44|Nature of Discount|C|35|O O O X
45|Discount rate|N|6,4|O O O X
46|Discount Amount|N|16,2|O O O X
47|HSS load rate|N|6,2|O O O X
48|HSS load amount|N|16,2|O O O X
49|Freight value|N|16,2|O O O X
50|Freight rate in %age|N|7,4|O O O X
51|Whthr freight is actual?|C|1|O O O X
52|Freight Currency|C|3|O O O X
53|Insurance value|N|16,2|O O O X
54|Insurance Rate|N|7,4|O O O X
55|Insurance currency|C|3|O O O X
56|Misc. charges|N|16,2|O O O X
57|Misc. currency|C|3|O O O X
58|Misc. charges as rate %|N|7,4|O O O X
59|Landing rate|N|7,4|O O O X
60|Loading charges|N|16,2|O O O X
61|Loading currency|C|3|O O O X
62|Load rate|N|7,4|O O O X
63|Agency commission|N|16,2|O O O X
64|Agency commission currency|C|3|O O O X
65|Agency Commissn rate|N|7,4|O O O X
66|Nature of transaction|C|1|M O M X
67|Payment terms|C|3|M O M X
68|Conditions attached with sale 1|C|40|O O O X
69|Conditions attached with sale 2|C|40|O O O X
70|Conditions attached with sale 3|C|40|O O O X
71|Conditions attached with sale 4|C|40|O O O X
72|Conditions attached with sale 5|C|40|O O O X
73|Valuation method Applicable|C|40|O O O X
74|Actual invoice Number|C|16|M O M X
75|Other relevant inform|C|100|O O O X
76|Terms Place|C|35|O O O X
77|Third party name|C|70|O O O X
78|Third party address 1|C|70|O O O O
79|Third party address 2|C|50|O O O O
80|Third party city|C|35|O O O O
81|Thrd party cntry sub dvsn|C|35|O O O O
82|Third party country code|C|2|O O O O
83|Third party pin|C|10|O O O O
84|Authorized Economic Operator Code|C|17|O O O O
85|Authorized Economic Operator Country|C|2|O O O O
86|Authorized Economic Operator Role|C|3|O O O O
87|Whether buyer and seller are Related (Y/N)|C|1|M O O O
""",
)

# Part 6/24, pp. 24-26: Final, Amendment, Supplement, Delete.
ITEMS = _segment(
    "ITEMS",
    "CACHI01 Part 6/24",
    24,
    "F A S D",
    """
1|Message type|C|1|F A S D
2|Custom House Code|C|6|K K K K
3|User Job No.|N|7|K X X X
4|User Job Date|D|0|K X X X
5|BE Number|N|7|X K K K
6|BE Date|D|0|X K K K
7|Invoice Serial Number|N|5|K K K K
8|Item Sr. no.|N|4|K K M K
9|Quantity|N|16,6|M O M X
10|Unit quantity code|C|3|M O M X
11|RITC Code|C|8|M O M X
12|Item description 1|C|60|M O M X
13|Item description 2|C|60|O O O X
14|Item category (Scheme Code)|C|2|O O O X
15|Generic description of the item|C|60|O O O X
16|Accessories for the item|C|2000|O O O X
17|Manufacturer/Grower/Producer Name|C|50|O O O X
18|Brand name|C|20|M O M X
19|Model|C|20|M O M X
20|End use of the item|C|20|M M M X
21|Country of origin|C|2|M O M X
22|CTH|C|8|M X M X
23|Preferential(P)/Standard(S)|C|1|M X M X
24|CETH|C|8|M X M X
25|BCD Notification|C|10|O X M X
26|BCD Notification Sr. No.|C|10|O X M X
27|CVD Notification|C|10|O X M X
28|CVD Notification Sr. No|C|10|O X M X
29|Additional Notification 1|C|10|O X O X
30|Additional notification 1 Sr. No.|C|10|O X O X
31|Additional notification 2|C|10|O X O X
32|Additional notification 2 Sr. No|C|10|O X O X
33|Other Notification|C|10|O X O X
34|Other notification Sr. No|C|10|O X O X
35|Cus EDUCESS Notfn. number|C|10|O X O X
36|Cus EDUCESS notfn Sr. NO.|C|10|O X O X
37|Social Welfare Notn|C|10|O X O X
38|Social Welfare Notn Slno|C|10|O X O X
39|NCD Notn|C|10|O X O X
40|NCD Sr. No.|C|10|O X O X
41|Anti-dumping Duty Notification|C|10|O X O X
42|Anti-dumping Duty Serial Number|C|10|O X O X
43|CTH Serial Number|C|10|O X O X
44|Supplier Serial Number|C|10|O X O X
45|Quantity as per Anti DumpingNotn.|N|16,6|O O O X
46|Tariff Value Notn|C|10|O X O X
47|Tariff Value Item Serial Number|C|10|O X O X
48|Quantity as per Tariff Value Notn.|N|16,6|O O O X
49|SAPTA Notn|C|10|O X O X
50|SAPTA Serial Number|C|10|O X O X
51|Health Notn.|C|10|O X O X
52|Health Sr. No.|C|10|O X O X
53|Additional CVD Notn.|C|10|O X O X
54|Additional CVD SrNo.|C|10|O X O X
55|Aggregate Duty Notn|C|10|O X O X
56|Aggregate Duty Notn. Sr. No.|C|10|O X O X
57|Safeguard Duty Notn|C|10|O X O X
58|Safeguard Duty Notn Sr. No.|C|10|O X O X
59|Unit price invoiced|N|16,6|M O M X
60|Discount rate|N|6,4|O O O X
61|Discount amount|N|16,6|O O O X
62|Qty as per CTH|N|16,6|O O O X
63|Quantity as per CTH|N|16,6|O O O X
64|SVB Reference Number|C|20|O O O X
65|SVB Reference date|D|0|O O O X
66|SVB load assessable Value|N|10,5|O O O X
67|SVB load on duty|N|10,5|O O O X
68|SVB flag|C|1|O O O X
69|Whether load Final/Provisional on Assessable value|C|1|O O O X
70|Whether load Final/Provisional On duty|C|1|O O O X
71|Custom House Code Which has Imposed load|C|6|O O O X
72|Policy Para No|C|7|O O O X
73|Policy year|C|5|O O O X
74|RSP applicability (Y/N/Q/T/D/C)|C|2|M O M X
75|Whether Re-import (Y/N)|C|1|M O M X
76|Previous BE No.|N|7|O O O X
77|Previous BE Date|D|0|O O O X
78|Previous Unit Price|N|16,6|O O O X
79|Previous Currency Code|C|3|O O O X
80|Previous Custom Site|C|6|O O O X
81|Customs Notn exempting Central excise flag|C|1|O O O O
82|Item Manufacturer/producerCode type|C|1|O O O O
83|Item Manufacturer/producer /grower code|C|17|O O O O
84|Item Manufacturer/producer/grower Address1|C|70|O O O O
85|Item Manufacturer/producer/grower Address2|C|50|O O O O
86|Item Manufacturer/producer/grower city|C|35|O O O O
87|Item Manufacturer/producer/grower country subdivision|C|35|O O O O
88|Item Manufacturer/producer/grower pin|C|10|O O O O
89|Item Manufacturer cntry|C|2|O O O O
90|Source Country|C|2|O O O O
91|Transit Country|C|2|O O O O
92|Accessory status|C|1|M O O O
""",
)

# Part 15, p. 36: Final, Amendment, Supplement, Delete (pbe_amend and SEZ not taken).
IGMS = _segment(
    "IGMS",
    "CACHI01 Part 15/24",
    36,
    "F A S D",
    """
1|Message type|C|1|F A S D
2|Custom House Code|C|6|K K K K
3|User Job No.|N|7|K X X X
4|User Job Date|D|0|K X X X
5|BE Number|N|7|X K K K
6|BE Date|D|0|X K K K
7|IGM No.|N|7|M O M K
8|IGM Date|D|0|M O M K
9|Inward Date|D|0|M O M X
10|Gateway IGM Number|N|7|O O O X
11|Gateway IGM date|D|0|O O O X
12|Gateway Port Code|C|6|O O O X
13|MAWB/BL No|C|20|M O M K
14|MAWB/BL Date|D|0|M O M K
15|HAWB/HBL No|C|20|O O O K
16|HAWB/HBL Date|D|0|O O O K
17|Total No. Of Packages|N|8|M X M X
18|Gross Weight|N|9,3|M X M X
19|Unit Quantity Code|C|3|M X M X
20|Package Code|C|3|M O M X
21|Marks And Numbers 1|C|40|M O M X
22|Marks And Numbers 2|C|40|O O O X
23|Marks And Numbers 3|C|40|O O O X
""",
)

# Part 16/24, p. 37: Final, Supplement, Delete (no amendment column).
CONTAINER = _segment(
    "CONTAINER",
    "CACHI01 Part 16/24",
    37,
    "F S D",
    """
1|Message type|C|1|F S D
2|Custom House Code|C|6|K K K
3|User Job No.|N|7|K X X
4|User Job Date|D|0|K X X
5|BE Number|N|7|X K K
6|BE Date|D|0|X K K
7|IGM Number|N|7|M M X
8|IGM Date|D|0|M M X
9|LCL/FCL|C|1|M M X
10|Container Number|C|11|M M K
11|Seal Number|C|10|M M X
12|Truck Number|C|20|O O X
""",
)

# Part 17/24, p. 38: Final, Supplement, Delete.
CTX = _segment(
    "CTX",
    "CACHI01 Part 17/24",
    38,
    "F S D",
    """
1|Message type|C|1|F S D
2|Custom House Code|C|6|K K K
3|User Job No.|N|7|K X X
4|User Job Date|D|0|K X X
5|BE Number|N|7|X K K
6|BE Date|D|0|X K K
7|State Code|C|2|M M K
8|Commercial Tax Type|C|1|M M K
9|Commercial Tax RegistrationNo.|C|20|M M K
""",
)

# Part 18/24, p. 39: Amendment, Supplement, Delete (the amendment master).
AMEND = _segment(
    "AMEND",
    "CACHI01 Part 18/24",
    39,
    "A S D",
    """
1|Message type|C|1|A S D
2|Custom House Code|C|6|K K K
3|User Job No.|N|7|M M M
4|User Job Date|D|0|M M M
5|BE Number|N|7|K K K
6|BE Date|D|0|K K K
7|Amendment Code|C|10|M M M
8|Reasons for Amendment|C|4000|M M M
9|Request Letter Number|C|10|M M M
10|Request Date|D|0|M M M
""",
)

# Part 23, p. 50: Final, Amendment, Supplement, Delete.
STATEMENT = _segment(
    "STATEMENT",
    "CACHI01 Part 23",
    50,
    "F A S D",
    """
1|Message type|C|1|F A S D
2|Custom House Code|C|6|K K K K
3|User Job No.|N|7|M X X X
4|User Job Date|D|0|M X X X
5|Declaration Type|C|1|M K K K
6|Declaration Number|N|7|X K K K
7|Declaration Date|D|0|X K K K
8|Invoice Serial Number|N|5|M M M M
9|Item Sr. no.|N|4|M M M M
10|Statement Type|C|3|M M M M
11|Statement Code|C|7|O O O O
12|Statement Text|C|4000|O O O O
""",
)

# Part 24, p. 51: Final, Supplement, Delete.
SUPPORTINGDOCS = _segment(
    "SUPPORTINGDOCS",
    "CACHI01 Part 24",
    51,
    "F S D",
    """
1|Message type|C|1|F S D
2|Custom House Code|C|6|K K K
3|User Job No.|N|7|K X X
4|User Job Date|D|0|K X X
5|BE Number|N|7|X K K
6|BE Date|D|0|X K K
7|Declaration Type|C|1|M M X
8|Invoice Serial Number|N|5|M M X
9|Item Sr. no.|N|4|M M X
10|CHA License Number|C|15|O O X
11|IEC|C|10|O O X
12|ICEGATE user ID|C|15|M M K
13|Image reference no|C|16|M M K
14|Document Type Code|C|6|M M X
15|Document Issuing Party Code|C|35|O O X
16|Document Issuing Party Name|C|70|M M X
17|Document Issuing Party Name Address1|C|70|O O X
18|Document Issuing Party Name Address2|C|70|O O X
19|Document Issuing Party Name City|C|35|O O X
20|Document Issuing Party Name pin|C|10|O O X
21|Document reference number|C|17|O O X
22|Place of Issue|C|35|M M X
23|Document Issue Date|D|0|M M X
24|Document Expiry Date|D|0|O O X
25|Document Beneficiary Party Code|C|35|O O X
26|Document Beneficiary Party Name|C|70|M M X
27|Document Beneficiary Party Name Address1|C|70|O O X
28|Document Beneficiary Party Name Address2|C|70|O O X
29|Document Issuing Party Name city|C|35|O O X
30|Document Issuing Party pin|C|10|O O X
31|File Type|C|5|M M X
""",
)

# CHCAI02, p. 53 (the acknowledgement, .ack / .nak). "Field Length" then "Field Type".
CHCAI02 = _segment(
    "CHCAI02",
    "CHCAI02",
    53,
    "F",
    """
1|Message Type|C|6|F
2|Custom House Code|C|6|K
3|User Job No.|N|7|O
4|User Job Date|D|0|O
5|BE Number|N|7|O
6|BE Date|D|0|O
7|BE Type|C|4|O
8|Invoice Serial Number|N|5|O
9|Item Sr. no.|N|4|O
10|License Regn. No.|N|10|O
11|License Regn. Date|D|0|O
12|Bond Number|N|10|O
13|Certificate Number|C|30|O
14|IGM Number|N|7|O
15|IGM Date|D|0|O
16|BL number|C|20|O
17|House BL Number|C|20|O
18|Container Number|C|11|O
19|Commercial Tax Regn No.|C|20|O
20|Error Code|C|100|M
21|Amendment Number|N|7|O
22|Amendment Date|D|0|O
23|Appraising Group|C|3|O
24|Table Segment Name|C|10|O
""",
)

# CHCAI04, p. 55 (the processed BE, .chl).
CHCAI04 = _segment(
    "CHCAI04",
    "CHCAI04",
    55,
    "F",
    """
1|Message Type|C|1|F
2|Custom House Code|C|6|M
3|BE Number|N|7|M
4|BE Date|D|0|M
5|CHA/IEC User Id|C|20|O
6|Challan Number|C|10|O
7|BE Print File Location|C|60|O
""",
)

#: The segments the platform reads, by `<TABLE>` name.
SEGMENTS: Final[dict[str, Segment]] = {
    s.name: s for s in (BE, EXCHANGE, INVOICE, ITEMS, IGMS, CONTAINER, CTX, AMEND, STATEMENT)
} | {SUPPORTINGDOCS.name: SUPPORTINGDOCS, "SUPPORTING_DOCS": SUPPORTINGDOCS}

#: Segments of CACHI01 (p. 12) the platform does not take yet: a file with one is refused
#: with error code 07 rather than read in part.
NOT_SUPPORTED: Final = frozenset(
    {
        "PERMISSION",
        "MISC_CH",
        "LICENCE",
        "RSP",
        "DEPB",
        "BOND",
        "CERT",
        "HSS",
        "REIMPORT",
        "SBEDUTY",
        "BE_ITEM_SW_INFO_TYPE",
        "BE_ITEM_SW_CONST",
        "BE_ITEM_SW_PROD",
        "BE_ITEM_SW_CTRL",
    }
)

#: The acknowledgement's error codes (CHCAI02 field 20, p. 55). The spec lists only 00 and 01
#: ("For full and latest error code list, refer to ICEGATE website"), which is not among the
#: sources: every other code is the platform's own, and this is the one table of them.
ERROR_CODES: Final[dict[str, str]] = {
    "00": "record accepted (spec p. 55)",
    "01": "incorrect message name / type (spec p. 55): HREC message ID, or a record's message type",
    "02": "HREC header missing or malformed (spec p. 9)",
    "03": "TREC trailer missing: the file is truncated (spec p. 9)",
    "04": "the control number in TREC differs from HREC's (spec p. 9)",
    "05": "a byte that is not printable ASCII (the spec's files are ASCII, p. 10)",
    "06": "unknown segment: no such <TABLE> in the spec (p. 12)",
    "07": "a segment of the spec the platform does not take (yet)",
    "08": "wrong number of fields in a record",
    "09": "mandatory or key field empty",
    "10": "field longer than the spec's length",
    "11": "not a number, or more digits than the spec's length",
    "12": "not a date YYYYMMDD",
    "13": "a value in a field the spec marks X (not wanted) for this mode",
    "14": "a record before any <TABLE> line, or in a segment that is not allowed in this mode",
    "15": "a mandatory segment is missing, or one allowed once appears more often",
    "16": "a value outside the spec's code list",
    "17": "keys disagree: custom house, job or BE of a record, or an unknown invoice / item",
    "18": "file too large",
    "19": "the amendment names a BE that is not registered, or not this filer's",
    "20": "the BE cannot be expressed in the canonical BE (the contract says why)",
    "30": "rejected on the intake rules (INTAKE-*): the rule id and reason follow",
}
