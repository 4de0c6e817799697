import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inlineHashes, withSourceMapUrl } from './web-page.js';

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
