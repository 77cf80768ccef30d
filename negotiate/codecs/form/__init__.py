"""``application/x-www-form-urlencoded`` with ASP.NET model-binding keys.

Keys are paths from the carrier's root, as ASP.NET model binding reads them:
``Name``, ``Persons[0].Firstname``, ``CustomFields[SuperOffice:1]``. For the request
wrapper that gives ``ContactEntity.Name`` and ``EnrichId``.

Where things are:

* :mod:`~negotiate.codecs.form.codec`: :class:`FormCodec` (charset, the memo of bound
  keys, the fallbacks of encoding);
* :mod:`~negotiate.codecs.form.keys`: the key grammar, a key bound to a schema (a
  path), and :func:`form_key` (a JSON pointer as a form key);
* :mod:`~negotiate.codecs.form.values`: a field's text as an int32, bool, double,
  date-time or enum;
* :mod:`~negotiate.codecs.form.read`: percent-decoding, the field budget, and the
  tree a body is read into;
* :mod:`~negotiate.codecs.form.write`: the WHATWG serializer and the per-carrier
  writers.

Decoding (request side):

* Segments are ``.Name`` or ``[text]``; jQuery's all-bracket style
  (``ContactEntity[Persons][0][Firstname]``) reads the same. Property names bind like
  JSON's (exact, then case-insensitive); an unknown one follows
  :attr:`Options.unknown`. The carrier's own name may prefix every key
  (``ContactEntity.Name`` for a bare ContactEntity), as ASP.NET binds an action
  parameter with or without its name; a property of that name wins.
* Arrays: ``Persons[0]``, ``Persons[1]``... indices contiguous from 0 and below
  :attr:`Options.max_items` (a larger index is a 400 before anything is allocated).
  String arrays also take repeated keys (``Domains=a&Domains=b``, where an empty value
  is an unfilled input and is skipped) or jQuery's ``Domains[]=a``. One array uses
  one style.
* Dictionaries: ``CustomFields[key]=value``, or ASP.NET's pairs
  ``CustomFields[0].Key=key&CustomFields[0].Value=value`` (a pair's index is only a
  label; it is recognised when the segment after the brackets is ``Key`` or ``Value``
  and the value type has no property of that name).
* Values: a string takes the text as it is, ``""`` included. For any other type an
  empty value means "not given" (the default applies), except that an empty value at
  an array or dictionary key means "present and empty" (``Emails=`` is ``[]``: leaving
  the key out already says "not given", and this is the only way to send an empty
  collection), and at an array item or dictionary entry whose type is a carrier it
  means a null item. bool takes ``true``/``false`` in any case, ``1``/``0`` and an HTML
  checkbox's ``on``; given more than once, the first value counts (ASP.NET MVC's
  ``CheckBox`` posts ``true&false``). Every other property given twice is a 400. Enums
  take names in any case or the number; flags are separated by commas or spaces.
* The ``charset`` parameter is honoured (UTF-8 by default; it must be ASCII-compatible).
  A ``%`` not followed by two hex digits, or bytes invalid in the charset, are a 400
  naming the key. Every error is located by its form key.
* The result passes through the schema's normaliser, as JSON's does.
* A body of more fields than :attr:`Options.max_nodes` is a 400 at the first key past
  the budget, before any field is read; without a schema, more distinct keys (or values
  of one key) than :attr:`Options.max_items` are a 400.

Encoding (for clients) writes every non-null property in declaration order, keys
escaped as the WHATWG urlencoded serializer does (``[`` is ``%5B``), no carrier-name
prefix. Nulls are left out; ``""`` is ``Key=``; an empty array or dictionary is ``Key=``;
array items are indexed; dictionaries use ``[key]``, or the ``[i].Key``/``[i].Value``
pairs when a key holds a ``]``. Flag enums are written as JSON writes them
(``Read, Write``).

What a form cannot say, exactly (every other value reads back unchanged):

* a carrier whose every property is null has no key to write: it reads back as null
  (a null array item or dictionary value is written ``Key=``, which reads back as null);
* a null item of a string array and a null value of a string dictionary are written
  ``Key=``, which reads back as ``""`` (a form field has no null);
* a null item of an array of arrays (``LocalizedAddress``) is written ``Key=``, which
  reads back as ``[]``.

Without a schema a body decodes to ``{key: value}``, keys as written (percent-decoded),
a repeated key's values as a list; encoding takes such a dict (strings, numbers, bools,
``None`` written as ``Key=``, lists as repeated keys).

PERF: each distinct raw key is bound to the schema once per codec and memoised (bounded),
so reading a body is percent-decoding plus dictionary work.
"""

from __future__ import annotations

from negotiate.codecs.form.codec import FormCodec as FormCodec
from negotiate.codecs.form.keys import form_key as form_key

__all__ = ["FormCodec", "form_key"]
