'use strict';

const { slugify } = require('../src/slugify');

describe('slugify', () => {
  test('joins words with dashes', () => {
    expect(slugify('Hello big World')).toBe('hello-big-world');
  });

  test('drops accents', () => {
    expect(slugify('Crème brûlée')).toBe('creme-brulee');
  });

  test('uses the given separator', () => {
    expect(slugify('a b c', '_')).toBe('a_b_c');
  });

  test('rejects non-strings', () => {
    expect(() => slugify(42)).toThrow(TypeError);
  });
});
