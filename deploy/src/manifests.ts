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
