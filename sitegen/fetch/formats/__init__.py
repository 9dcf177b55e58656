"""One module per format of ``[source] url``, each an implementation of ``sitegen.fetch.source.Source``:

- ``folder``: the API contract's local form, a folder of ``<collection>.json`` files;
- ``api``: the JSON API over HTTP, incremental through its change feed;
- ``pretalx``: a pretalx event through its REST API;
- ``frab``: frab / c3voc schedule v1 files or URLs;
- ``convert``: a converter's result as the stage's ``RawArchive``, shared by the converted formats.

``sitegen.fetch.registry`` lists them in the order they are asked.
"""
