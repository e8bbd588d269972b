#!/usr/bin/env python3
"""Writes the long-page recognition cases: a vendor case with 2,000 repeated rows above and 2,000 below its controls.

Run from the repository root: `python3 tests/data/long/make.py`, then regenerate each case's golden
model with `keywarden-tool model FILE URL`. The rows are generated so the saved pages stay
reproducible; every case still says in its header what keywarden must make of it.
"""
import re

ROWS = 2000


def table(row):
    return '<table class="padding"><tbody>\n' + ''.join(row(n) + '\n' for n in range(ROWS)) + '</tbody></table>\n'


def listing(item):
    return '<ul class="padding">\n' + ''.join(item(n) + '\n' for n in range(ROWS)) + '</ul>\n'


def extjs_rows(cells):
    return ''.join(
        '<table role="presentation" class="x-grid-item"><tbody><tr role="row">'
        + ''.join(f'<td role="gridcell"><div class="x-grid-cell-inner">{c}</div></td>' for c in cells(n))
        + '</tr></tbody></table>\n'
        for n in range(ROWS)
    )


CASES = [
    (
        'predicthq/angular-token-list.html', 'predicthq/long-token-list-create-between-tables.html',
        'A UI revision listing 2,000 tokens above Create New Token and 2,000 usage rows below it: the button is found wherever it sits.',
        [
            ('<button mat-flat-button color="primary"', 'before', table(lambda n: f'<tr><td>ingest-{n:04d}</td><td>events, places</td><td>2026-11-{n % 28 + 1:02d}</td><td><button type="button" aria-label="Delete token">×</button></td></tr>')),
            ('</app-token-list>', 'before', table(lambda n: f'<tr><td>GET /v1/events</td><td>ingest-{n:04d}</td><td>{n % 60} min ago</td></tr>')),
        ],
    ),
    (
        'predicthq/angular-token-list.html', 'predicthq/long-changelog-around-create.html',
        'The token list between 2,000 changelog lines above and 2,000 below (no rows to summarize): more than the report holds, the controls go first.',
        [
            ('<button mat-flat-button color="primary"', 'before', ''.join(f'<p>Release {n}: faster event search</p>\n' for n in range(ROWS))),
            ('</app-token-list>', 'before', ''.join(f'<p>Note {n}: tokens inherit the organisation plan</p>\n' for n in range(ROWS))),
        ],
    ),
    (
        'predicthq/vuetify-token-shown.html', 'predicthq/long-token-shown-between-lists.html',
        'The new token in a dialog behind 2,000 token rows, with 2,000 activity items after the dialog: the key is offered and the copy button targeted.',
        [
            ('<tr><td>Warehouse loader</td>', 'after', ''.join(f'<tr><td>loader-{n:04d}</td><td>account, events</td></tr>\n' for n in range(ROWS))),
            ('</body>', 'before', listing(lambda n: f'<li>Token loader-{n:04d} called the Events API {n % 50 + 1} times</li>')),
        ],
    ),
    (
        'predictiveindex/vuetify-open-api-generate.html', 'predictiveindex/long-open-api-generate-between-logs.html',
        'The Open API page with 2,000 API call log rows above Generate API Key and 2,000 integration events below it.',
        [
            ('<div class="v-card-actions">', 'before', table(lambda n: f'<tr><td>GET /v1/people</td><td>200</td><td>2026-11-30 10:{n % 60:02d}</td></tr>')),
            ('</main>', 'before', listing(lambda n: f'<li>Integration event {n}: people sync finished</li>')),
        ],
    ),
    (
        'planningspace/angular-generate-before-key.html', 'planningspace/long-generate-between-activity.html',
        'Generate API Key on a customer server with 2,000 activity rows above Create key and 2,000 below the copy button.',
        [
            ('<button mat-raised-button color="primary"', 'before', table(lambda n: f'<tr><td>Scenario {n}</td><td>calculated</td><td>Dana Planner</td></tr>')),
            ('</mat-card-content>', 'after', table(lambda n: f'<tr><td>Report {n}</td><td>exported</td><td><a href="/ACME/PlanningSpace/#/reports/{n}">Open</a></td></tr>')),
        ],
    ),
    (
        'gotransverse/extjs-account-details-generate.html', 'gotransverse/long-extjs-users-and-keys.html',
        'User Account Details over an ExtJS users grid of 2,000 rows (each row a table of its own), its API Keys grid holding 2,000 earlier keys below Generate key.',
        [
            ('<div class="x-grid-view" role="rowgroup"><table', 'inside', extjs_rows(lambda n: [f'user{n:04d}', 'Active'])),
            ('      <div class="x-grid-view" role="rowgroup">\n', 'after', extjs_rows(lambda n: [f'batch-{n:04d}', 'Nightly export'])),
        ],
    ),
]


def main():
    for base, out, about, inserts in CASES:
        html = open(f'tests/data/pages/{base}').read()
        html = re.sub(r'^about: .*$', f'about: {about}', html, count=1, flags=re.M)
        for marker, where, block in inserts:
            assert html.count(marker) >= 1, (base, marker)
            at = html.index(marker)
            if where == 'before':
                html = html[:at] + block + html[at:]
            elif where == 'after':
                html = html[:at + len(marker)] + block + html[at + len(marker):]
            else:  # inside: right after the marker's opening tag, before what followed it
                cut = at + len(marker) - len('<table')
                html = html[:cut] + block + html[cut:]
        open(f'tests/data/pages/{out}', 'w').write(html)


if __name__ == '__main__':
    main()
