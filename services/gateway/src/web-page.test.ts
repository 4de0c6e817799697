import { describe, expect, it } from 'vitest';
import { withSourceMapUrl } from './web-page.js';

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
