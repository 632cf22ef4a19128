'use strict';

// Turns a title into a URL slug: lower case ASCII letters and digits, words
// joined by `separator` (default '-'). Accented Latin letters lose their
// accents; every other character separates words.
function slugify(title, separator = '-') {
  if (typeof title !== 'string') {
    throw new TypeError('slugify expects a string');
  }
  const plain = title.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  return plain.toLowerCase().replace(/[^a-z0-9]+/g, separator);
}

module.exports = { slugify };
