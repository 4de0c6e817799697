// deploy/k8s/overlays/dev as docs/deployment.md applies it to a kind or minikube cluster: no Secret
// made by hand, the images `docker compose build` makes, no KEDA.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadAgentEnv } from '@xiaoyue/agent-worker/env';
import { loadGatewayEnv } from '@xiaoyue/gateway/env';
import { loadTtsEnv } from '@xiaoyue/tts-worker/env';
import { describe, expect, it } from 'vitest';
import { k8sRoot, type Manifest, parseYamlDocuments, renderKustomization } from './manifests.js';

const overlay = join(k8sRoot, 'overlays', 'dev');
const rendered = renderKustomization(join(overlay, 'kustomization.yaml'));
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const LOADERS = { gateway: loadGatewayEnv, 'agent-worker': loadAgentEnv, 'tts-worker': loadTtsEnv };

/** A Deployment's environment as the kubelet gives it: envFrom ConfigMaps (Secrets absent), then env. */
function environmentOf(manifests: Manifest[], deployment: Manifest): Record<string, string> {
  const [container] = deployment.spec.template.spec.containers;
  const fromConfigMaps = (container.envFrom ?? [])
    .filter((source: Manifest) => source.configMapRef)
    .map(
      (source: Manifest) =>
        manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === source.configMapRef.name)?.data ?? {},
    );
  const own = Object.fromEntries((container.env ?? []).map((e: Manifest) => [e.name, String(e.value)]));
  return Object.assign({}, ...fromConfigMaps, own);
}

describe('the dev overlay (kind, minikube)', () => {
  const deployments = rendered.filter((m) => m.kind === 'Deployment');

  it.each(Object.keys(LOADERS))('starts %s without a Secret', (name) => {
    const deployment = deployments.find((d) => d.metadata.name === name) as Manifest;
    // The Secret is optional in the dev overlay: its absence does not stop the pod.
    const secretRefs = deployment.spec.template.spec.containers[0].envFrom.filter((s: Manifest) => s.secretRef);
    for (const ref of secretRefs) expect(ref.secretRef.optional).toBe(true);
    const environment = environmentOf(rendered, deployment);
    expect(() => LOADERS[name as keyof typeof LOADERS](environment)).not.toThrow();
    expect(environment.REDIS_URL).toBe('redis://redis:6379');
  });

  it('runs anonymous learners behind a port-forward (no Ingress)', () => {
    const gateway = deployments.find((d) => d.metadata.name === 'gateway') as Manifest;
    const env = loadGatewayEnv(environmentOf(rendered, gateway));
    expect(env.AUTH_MODE).toBe('dev');
    expect(env.TRUST_PROXY_HOPS).toBe(0);
  });

  it('runs the images `docker compose build` makes, never :latest (always pulled, so a loaded image is never used)', () => {
    for (const deployment of deployments) {
      for (const container of deployment.spec.template.spec.containers) {
        expect(container.image).toBe(`xiaoyue/${deployment.metadata.name}:local`);
      }
    }
    const images = rendered.flatMap((m) => m.spec?.template?.spec?.containers ?? []).map((c: Manifest) => c.image);
    for (const image of images) expect(image).not.toMatch(/:latest$|^[^:]+$/);
  });

  it('needs no KEDA: the ScaledObjects are left out, the workers run their replicas', () => {
    expect(rendered.map((m) => m.kind)).not.toContain('ScaledObject');
    expect(rendered.map((m) => m.kind)).toEqual(expect.arrayContaining(['Deployment', 'StatefulSet', 'Service']));
    for (const name of ['agent-worker', 'tts-worker']) {
      expect(deployments.find((d) => d.metadata.name === name)?.spec.replicas ?? 1).toBeGreaterThanOrEqual(1);
    }
  });

  it.skipIf(!hasKubectl)('renders the same with kubectl kustomize', () => {
    const result = spawnSync('kubectl', ['kustomize', overlay], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const real = parseYamlDocuments(result.stdout);
    const summary = (manifests: Manifest[]) => manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
    expect(summary(real)).toEqual(summary(rendered));
    const config = (manifests: Manifest[]) => manifests.find((m) => m.kind === 'ConfigMap')?.data;
    expect(config(real)).toEqual(config(rendered));
    const images = (manifests: Manifest[]) =>
      manifests
        .filter((m) => m.kind === 'Deployment')
        .map((d) => d.spec.template.spec.containers[0].image)
        .sort();
    expect(images(real)).toEqual(images(rendered));
  });
});
