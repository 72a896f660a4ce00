#!/usr/bin/env python3
"""Generates the benchmark's Intercom 2.12 JSON into a directory (static files that nginx serves).

    python3 bench/gen_data.py OUT_DIR

  contact.json        one contact as GET /contacts/{id} returns it (~2.2 KB, compact like Intercom's)
  w2/<cursor>.json    20 cursor pages of 50 contacts (~114 KB each); w2/first.json has no cursor
  w5/<cursor>.json    2,000 such pages (100,000 contacts)
  search.json         a POST /contacts/search answer: 10 contacts and a next cursor
  search_body.json    the search request body the clients send (for the C floor)
  w2.urls, w5.urls    the page paths in order, for the C floor (it does not parse, so it is told)

Deterministic (fixed seed): every run serves the same bytes.
"""

import base64
import json
import os
import random
import sys

NOW = 1717000000
FIRST_NAMES = ["Maria", "Aoife", "Liam", "Chen", "Fatima", "Olu", "Sven", "Priya", "Lucas", "Yuki", "Ana",
               "Noah", "Zoe", "Mateo", "Ines", "Omar", "Hana", "Jonas", "Ada", "Grace"]
LAST_NAMES = ["Gonzalez", "Byrne", "Murphy", "Wang", "Khan", "Adeyemi", "Larsen", "Patel", "Silva", "Sato",
              "Costa", "Smith", "Dubois", "Rossi", "Novak", "Haddad", "Kim", "Berg", "Lovelace", "Hopper"]
CITIES = [("Ireland", "Dublin", "Dublin", "IRL", "EU"), ("United States", "California", "San Francisco", "USA", "NA"),
          ("Germany", "Berlin", "Berlin", "DEU", "EU"), ("Japan", "Tokyo", "Tokyo", "JPN", "AS"),
          ("Brazil", "Sao Paulo", "Sao Paulo", "BRA", "SA"), ("India", "Karnataka", "Bengaluru", "IND", "AS")]
PLANS = ["free", "starter", "pro", "enterprise"]


def hexid(rng, n=24):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def cursor(rng, index):
    # Intercom's cursors are base64 of [epoch_ms, "id", n]; padding-free so they need no escaping.
    raw = json.dumps([1708984442000 + index, hexid(rng), index], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def sublist(kind, cid, items):
    return {"type": "list", "data": items, "url": "/contacts/%s/%s" % (cid, kind),
            "total_count": len(items), "has_more": False}


def contact(rng, i):
    cid = hexid(rng)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = "%s.%s%d@example.com" % (first.lower(), last.lower(), i)
    country, region, city, cc, cont = rng.choice(CITIES)
    created = NOW - rng.randint(86400, 86400 * 900)
    tags = [{"type": "tag", "id": str(rng.randint(1000000, 9999999)), "url": "/tags/%d" % rng.randint(1, 99999)}
            for _ in range(2)]
    companies = [{"type": "company", "id": hexid(rng), "url": "/companies/" + hexid(rng)}]
    return {
        "type": "contact", "id": cid, "workspace_id": "ecahpwf5", "external_id": "user_%d" % (10000 + i),
        "role": "user", "email": email, "email_domain": "example.com", "phone": "+35387%07d" % rng.randint(0, 9999999),
        "formatted_phone": None, "name": "%s %s" % (first, last), "owner_id": rng.choice([None, 991266214, 991266215]),
        "has_hard_bounced": False, "marked_email_as_spam": False, "unsubscribed_from_emails": rng.random() < 0.1,
        "created_at": created, "updated_at": NOW - rng.randint(0, 86400 * 30), "signed_up_at": created,
        "last_seen_at": NOW - rng.randint(0, 86400 * 60), "last_replied_at": NOW - rng.randint(0, 86400 * 90),
        "last_contacted_at": NOW - rng.randint(0, 86400 * 90), "last_email_opened_at": NOW - rng.randint(0, 86400 * 90),
        "last_email_clicked_at": None, "language_override": None, "browser": "chrome",
        "browser_version": "124.0.6367.%d" % rng.randint(10, 99), "browser_language": "en-GB", "os": "Mac OS X",
        "android_app_name": None, "android_app_version": None, "android_device": None, "android_os_version": None,
        "android_sdk_version": None, "android_last_seen_at": None, "ios_app_name": None, "ios_app_version": None,
        "ios_device": None, "ios_os_version": None, "ios_sdk_version": None, "ios_last_seen_at": None,
        "custom_attributes": {"plan": rng.choice(PLANS), "seats": rng.randint(1, 500),
                              "mrr": round(rng.uniform(0, 5000), 2), "trial": rng.random() < 0.2,
                              "signup_source": rng.choice(["google_ads", "organic", "referral", "partner"]),
                              "account_manager": "%s %s" % (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))},
        "avatar": {"type": "avatar", "image_url": "https://static.intercomassets.com/avatars/%d/square_128/%s.png"
                   % (rng.randint(1000000, 9999999), hexid(rng, 12))},
        "tags": sublist("tags", cid, tags),
        "notes": sublist("notes", cid, []),
        "companies": sublist("companies", cid, companies),
        "location": {"type": "location", "country": country, "region": region, "city": city,
                     "country_code": cc, "continent_code": cont},
        "social_profiles": {"type": "list", "data": []},
        "opted_out_subscription_types": sublist("subscriptions", cid, []),
        "utm_campaign": None, "utm_content": None, "utm_medium": None, "utm_source": None, "utm_term": None,
        "referrer": None, "enabled_push_messaging": None,
    }


def dump(path, value):
    with open(path, "w") as f:
        json.dump(value, f, separators=(",", ":"), ensure_ascii=False)


def pages(rng, out, name, count, per_page=50):
    os.makedirs(os.path.join(out, name), exist_ok=True)
    cursors = ["first"] + [cursor(rng, i) for i in range(1, count)]
    # Every page holds the same 50 contacts (the server's disk and page cache stay small); only the
    # page number and the cursor differ, which is all a client looks at.
    items = [contact(rng, i) for i in range(per_page)]
    head = json.dumps({"type": "list", "data": items}, separators=(",", ":"), ensure_ascii=False)[:-1]
    for n in range(count):
        p = {"type": "pages", "page": n + 1, "per_page": per_page, "total_pages": count}
        if n + 1 < count:
            p["next"] = {"per_page": per_page, "starting_after": cursors[n + 1]}
        tail = json.dumps({"total_count": count * per_page, "pages": p}, separators=(",", ":"))[1:]
        with open(os.path.join(out, name, cursors[n] + ".json"), "w") as f:
            f.write(head + "," + tail)
    with open(os.path.join(out, name + ".urls"), "w") as f:
        for n in range(count):
            f.write("/contacts?per_page=%d%s\n" % (per_page, "" if n == 0 else "&starting_after=" + cursors[n]))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(2012)
    dump(os.path.join(out, "contact.json"), contact(rng, 0))
    pages(rng, out, "w2", 20)
    pages(rng, out, "w5", 2000)
    results = [contact(rng, 100 + i) for i in range(10)]
    dump(os.path.join(out, "search.json"), {
        "type": "list", "data": results, "total_count": 137,
        "pages": {"type": "pages", "page": 1, "per_page": 10, "total_pages": 14,
                  "next": {"per_page": 10, "starting_after": cursor(rng, 99)}}})
    dump(os.path.join(out, "search_body.json"), {
        "query": {"operator": "AND", "value": [{"field": "role", "operator": "=", "value": "user"},
                                               {"field": "created_at", "operator": ">", "value": 1700000000}]},
        "pagination": {"per_page": 10}})


if __name__ == "__main__":
    main()
