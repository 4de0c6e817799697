import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The web page and the client module it imports, as served. */
export interface WebPage {
  /** `/`: the page. */
  html: Buffer;
  /** `/client.js`: `@xiaoyue/client`'s single ES module, its source map comment naming `/client.js.map`. */
  clientModule: string;
  /** `/client.js.map`, when the build wrote one. */
  clientSourceMap: Buffer | undefined;
  /** The page's Content-Security-Policy directives: its own inline script and style, by hash, and nothing else. */
  contentSecurityPolicy: Record<string, string[]>;
  /** `/favicon.ico`: the page's own inline SVG icon, for whatever asks for the file. */
  icon: Buffer | undefined;
}

export const ICON_PATH = '/favicon.ico';

/** The SVG of the page's `<link rel="icon" href="data:image/svg+xml,…">`: one icon, in one place. */
export function inlineIcon(html: string): Buffer | undefined {
  const href = /<link rel="icon" href="data:image\/svg\+xml,([^"]+)"/.exec(html)?.[1];
  return href === undefined ? undefined : Buffer.from(decodeURIComponent(href));
}

export const CLIENT_MODULE_PATH = '/client.js';
export const CLIENT_SOURCE_MAP_PATH = '/client.js.map';

/** Reads the page and the client once, when the gateway is built. */
export async function loadWebPage(): Promise<WebPage> {
  // Through the package's exports, as an import would find it: the workspace link in the repository,
  // the copy `pnpm deploy` puts in node_modules in the image.
  const clientFile = fileURLToPath(import.meta.resolve('@xiaoyue/client'));
  const [html, clientModule, clientSourceMap] = await Promise.all([
    readFile(new URL('../public/index.html', import.meta.url)),
    readFile(clientFile, 'utf8'),
    readFile(`${clientFile}.map`).catch(() => undefined),
  ]);
  return {
    html,
    clientModule: withSourceMapUrl(clientModule, clientSourceMap ? CLIENT_SOURCE_MAP_PATH : undefined),
    clientSourceMap,
    contentSecurityPolicy: pagePolicy(html.toString('utf8')),
    icon: inlineIcon(html.toString('utf8')),
  };
}

/**
 * Scripts and styles only from this origin and the page's own inline blocks (allowed by their
 * hashes, so an injected one does not run); her audio arrives as data: URLs; the socket is this
 * origin's (CSP 3's 'self' covers ws:/wss:); the page is never framed.
 */
export function pagePolicy(html: string): Record<string, string[]> {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'", ...inlineHashes(html, 'script')],
    styleSrc: ["'self'", ...inlineHashes(html, 'style')],
    connectSrc: ["'self'"],
    mediaSrc: ["'self'", 'data:'],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  };
}

/** CSP hash sources of the inline `<script>` or `<style>` blocks of a page. */
export function inlineHashes(html: string, tag: 'script' | 'style'): string[] {
  const blocks = html.matchAll(new RegExp(`<${tag}(?![^>]*\\bsrc=)[^>]*>([\\s\\S]*?)</${tag}>`, 'g'));
  return [...blocks].map(
    (block) =>
      `'sha256-${createHash('sha256')
        .update(block[1] ?? '')
        .digest('base64')}'`,
  );
}

/**
 * The bundle names its map by its own file name (`index.js.map`), which a browser would look for
 * next to `/client.js`: point it at where the gateway serves the map (or at nothing without one).
 */
export function withSourceMapUrl(code: string, url: string | undefined): string {
  const withoutComment = code.replace(/\n?\/\/# sourceMappingURL=\S*\s*$/, '\n');
  return url ? `${withoutComment}//# sourceMappingURL=${url}\n` : withoutComment;
}
