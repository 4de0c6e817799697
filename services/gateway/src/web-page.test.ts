import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inlineHashes, pagePolicy, withSourceMapUrl } from './web-page.js';

describe('withSourceMapUrl', () => {
  const bundle = 'export { a };\n//# sourceMappingURL=index.js.map\n';

  it('points the bundle at the map where the gateway serves it', () => {
    expect(withSourceMapUrl(bundle, '/client.js.map')).toBe('export { a };\n//# sourceMappingURL=/client.js.map\n');
  });

  it('drops the comment when there is no map to serve', () => {
    expect(withSourceMapUrl(bundle, undefined)).toBe('export { a };\n');
    expect(withSourceMapUrl('export { a };\n', undefined)).toBe('export { a };\n');
  });
});

describe('inlineHashes', () => {
  const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

  it('hashes each inline block of a tag, not the ones that load a file', () => {
    const html =
      '<script>a()</script><script src="/x.js"></script><style>p{}</style><script type="module">b()</script>';
    expect(inlineHashes(html, 'script')).toEqual([sha('a()'), sha('b()')]);
    expect(inlineHashes(html, 'style')).toEqual([sha('p{}')]);
  });
});

describe('the page', () => {
  const html = readFileSync(new URL('../public/index.html', import.meta.url), 'utf8');

  it('has input patterns a browser accepts (compiled with the `v` flag, as HTML does)', () => {
    const patterns = [...html.matchAll(/\spattern="([^"]*)"/g)].map((match) => match[1] ?? '');
    expect(patterns.length).toBeGreaterThan(0);
    for (const pattern of patterns) expect(() => new RegExp(`^(?:${pattern})$`, 'v')).not.toThrow();
  });

  it('brings its own icon, which its policy lets load (and the gateway also serves at /favicon.ico)', () => {
    expect(html).toMatch(/<link rel="icon" href="data:image\/svg\+xml,/);
    expect(pagePolicy(html).imgSrc).toContain('data:');
  });
});
