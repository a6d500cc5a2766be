"""``seatwatch report``: one self-contained HTML file of charts and tables, read from the published marts.

``marts`` reads the numbers (every metric comes from a mart, none is computed here), ``charts`` draws them
with Plotly, ``page`` lays them out in one offline HTML file, ``command`` is the CLI entry. Nothing is
imported here, so registering the command does not load Plotly.
"""
