import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const k8sRoot = join(repoRoot, 'deploy', 'k8s');

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML
export type Manifest = Record<string, any>;

export interface ManifestFile {
  path: string;
  documents: Manifest[];
}

/** Every YAML document under deploy/k8s, with the file it came from. */
export function loadManifestFiles(dir = k8sRoot): ManifestFile[] {
  const files: ManifestFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...loadManifestFiles(path));
    else if (/\.ya?ml$/.test(entry.name))
      files.push({ path, documents: parseYamlDocuments(readFileSync(path, 'utf8'), path) });
  }
  return files;
}

export function parseYamlDocuments(text: string, path = '(inline)'): Manifest[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]?.message}`);
    return doc.toJS() as Manifest;
  });
}

/** The manifests a kustomization renders (its resources, recursively), without applying patches. */
export function kustomizationResources(kustomizationPath: string): { path: string; manifest: Manifest }[] {
  const [kustomization] = parseYamlDocuments(readFileSync(kustomizationPath, 'utf8'), kustomizationPath);
  const base = dirname(kustomizationPath);
  return ((kustomization?.resources ?? []) as string[]).flatMap((resource) => {
    const target = join(base, resource);
    if (!existsSync(target))
      throw new Error(`${relative(repoRoot, kustomizationPath)}: resource ${resource} does not exist`);
    const nested = join(target, 'kustomization.yaml');
    if (existsSync(nested)) return kustomizationResources(nested);
    return parseYamlDocuments(readFileSync(target, 'utf8'), target).map((manifest) => ({ path: target, manifest }));
  });
}

/**
 * What `kubectl kustomize` makes of a kustomization, for the features these overlays use: its
 * resources (nested kustomizations rendered first), `namespace`, `images` and inline `patches`
 * (JSON 6902 operations, a merge patch, or `$patch: delete`). `labels` are not applied. Anything else is refused,
 * so that a test never reads a rendering that kustomize would not produce.
 */
export function renderKustomization(kustomizationPath: string): Manifest[] {
  const [kustomization = {}] = parseYamlDocuments(readFileSync(kustomizationPath, 'utf8'), kustomizationPath);
  const known = ['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches', 'labels'];
  const unknown = Object.keys(kustomization).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new Error(`${kustomizationPath}: cannot render ${unknown.join(', ')}`);
  const base = dirname(kustomizationPath);
  const manifests = ((kustomization.resources ?? []) as string[]).flatMap((resource) => {
    const target = join(base, resource);
    const nested = join(target, 'kustomization.yaml');
    if (existsSync(nested)) return renderKustomization(nested);
    return parseYamlDocuments(readFileSync(target, 'utf8'), target);
  });
  for (const { target, patch, path } of (kustomization.patches ?? []) as Manifest[]) {
    if (path !== undefined || typeof patch !== 'string') throw new Error(`${kustomizationPath}: inline patches only`);
    const body = parseYamlDocuments(patch, kustomizationPath)[0];
    const selector = target ?? { kind: body?.kind, name: body?.metadata?.name };
    const matches = manifests.filter(
      (m) => (!selector.kind || m.kind === selector.kind) && (!selector.name || m.metadata?.name === selector.name),
    );
    if (matches.length === 0)
      throw new Error(`${kustomizationPath}: patch target ${JSON.stringify(selector)} not found`);
    // A strategic-merge `$patch: delete` removes the object (the dev overlay drops KEDA's).
    if (!Array.isArray(body) && body?.$patch === 'delete') {
      for (const manifest of matches) manifests.splice(manifests.indexOf(manifest), 1);
      continue;
    }
    for (const manifest of matches) {
      if (Array.isArray(body)) for (const op of body) applyJsonPatchOp(manifest, op);
      else Object.assign(manifest, mergePatch(manifest, body));
    }
  }
  for (const image of (kustomization.images ?? []) as Manifest[]) {
    for (const manifest of manifests) {
      for (const container of manifest.spec?.template?.spec?.containers ?? []) {
        const [name, tag] = String(container.image).split(':');
        if (name === image.name) container.image = `${image.newName ?? name}:${image.newTag ?? tag}`;
      }
    }
  }
  if (kustomization.namespace) {
    for (const manifest of manifests)
      if (manifest.kind !== 'Namespace') manifest.metadata.namespace = kustomization.namespace;
  }
  return manifests;
}

/** One JSON Patch (RFC 6902) operation: add, replace or remove. */
function applyJsonPatchOp(document: Manifest, op: Manifest): void {
  const keys = String(op.path)
    .split('/')
    .slice(1)
    .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = keys.pop() as string;
  const parent = keys.reduce((node, key) => node?.[key], document);
  if (parent === undefined || parent === null) throw new Error(`patch path ${op.path} does not exist`);
  if (op.op === 'remove' || op.op === 'replace') {
    if (!(last in parent)) throw new Error(`patch path ${op.path} does not exist`);
  }
  if (op.op === 'remove') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (op.op === 'add' && Array.isArray(parent)) {
    parent.splice(last === '-' ? parent.length : Number(last), 0, structuredClone(op.value));
  } else if (op.op === 'add' || op.op === 'replace') {
    parent[last] = structuredClone(op.value);
  } else {
    throw new Error(`unsupported patch operation ${op.op}`);
  }
}

/** A JSON merge patch (RFC 7386): objects merge, null removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Manifest =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Manifest) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}
