import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { agentEnvSchema } from '@xiaoyue/agent-worker/env';
import { gatewayEnvSchema } from '@xiaoyue/gateway/env';
import { commonEnv, queueCatalog, redisKeys, STREAM_GROUP } from '@xiaoyue/shared';
import { ttsEnvSchema } from '@xiaoyue/tts-worker/env';
import { describe, expect, it } from 'vitest';
import {
  k8sRoot,
  kustomizationResources,
  loadManifestFiles,
  type Manifest,
  renderKustomization,
  repoRoot,
} from './manifests.js';
import { validate } from './models.js';

const SCHEMAS: Record<string, { shape: Record<string, unknown> }> = {
  gateway: gatewayEnvSchema,
  'agent-worker': agentEnvSchema,
  'tts-worker': ttsEnvSchema,
};
const anyServiceReads = (name: string) => Object.values(SCHEMAS).some((schema) => name in schema.shape);
/** The ConfigMaps and Secrets the services load their environment from (envFrom). */
const envSources = (manifests: Manifest[]) => {
  const names = new Set(
    manifests
      .filter((m) => m.kind === 'Deployment')
      .flatMap((d) => d.spec.template.spec.containers[0].envFrom ?? [])
      .map((source: Manifest) => (source.configMapRef ?? source.secretRef).name),
  );
  return manifests.filter((m) => (m.kind === 'ConfigMap' || m.kind === 'Secret') && names.has(m.metadata.name));
};
const overlays = readdirSync(join(k8sRoot, 'overlays'));

const files = loadManifestFiles();
const objects = files.flatMap((f) =>
  f.documents.filter((d) => d.kind !== 'Kustomization').map((d) => ({ path: f.path, manifest: d })),
);
const deployments = objects.filter((o) => o.manifest.kind === 'Deployment').map((o) => o.manifest);

describe('Kubernetes manifests (deploy/k8s)', () => {
  it.each(
    objects.map((o) => [`${relative(repoRoot, o.path)} ${o.manifest.kind}/${o.manifest.metadata?.name}`, o.manifest]),
  )('%s validates against the Kubernetes schemas', (_name, manifest) => {
    expect(() => validate(manifest)).not.toThrow();
  });

  it('catches a broken manifest (the validation is real)', () => {
    const broken = structuredClone(deployments[0]) as Manifest;
    broken.spec.replicas = 'two';
    expect(() => validate(broken)).toThrow();
    const noContainers = structuredClone(deployments[0]) as Manifest;
    delete noContainers.spec.template.spec.containers;
    expect(() => validate(noContainers)).toThrow();
  });

  it('has every kustomization resource in place, for each overlay', () => {
    const kustomizations = files.filter((f) => f.path.endsWith('kustomization.yaml'));
    expect(kustomizations.length).toBeGreaterThanOrEqual(4);
    for (const k of kustomizations) expect(() => kustomizationResources(k.path)).not.toThrow();
    const dev = kustomizationResources(join(k8sRoot, 'overlays', 'dev', 'kustomization.yaml')).map(
      (r) => r.manifest.kind,
    );
    expect(dev).toEqual(
      expect.arrayContaining(['Deployment', 'StatefulSet', 'ScaledObject', 'HorizontalPodAutoscaler']),
    );
    const prod = kustomizationResources(join(k8sRoot, 'overlays', 'prod', 'kustomization.yaml')).map(
      (r) => r.manifest.kind,
    );
    expect(prod).not.toContain('StatefulSet');
    const cluster = kustomizationResources(join(k8sRoot, 'overlays', 'cluster', 'kustomization.yaml')).map(
      (r) => r.manifest.kind,
    );
    expect(cluster).toEqual(expect.arrayContaining(['Deployment', 'StatefulSet', 'Job', 'ScaledObject']));
  });

  it('deploys the three services with probes on the ports they serve', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['agent-worker', 'gateway', 'tts-worker']);
    for (const deployment of deployments) {
      const [container] = deployment.spec.template.spec.containers;
      const ports = Object.fromEntries(container.ports.map((p: Manifest) => [p.name, p.containerPort]));
      const env = Object.fromEntries((container.env ?? []).map((e: Manifest) => [e.name, e.value]));
      const port = deployment.metadata.name === 'gateway' ? Number(env.PORT) : Number(env.HEALTH_PORT);
      expect(ports[container.readinessProbe.httpGet.port]).toBe(port);
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container.resources.requests).toBeDefined();
      expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    }
  });

  it('gives graceful shutdown the time it needs', () => {
    const shutdownSeconds = commonEnv.shape.SHUTDOWN_TIMEOUT_MS.parse(undefined) / 1000;
    for (const deployment of deployments) {
      const spec = deployment.spec.template.spec;
      const preStop = Number(spec.containers[0].lifecycle?.preStop?.exec?.command?.[1] ?? 0);
      expect(spec.terminationGracePeriodSeconds, deployment.metadata.name).toBeGreaterThan(shutdownSeconds + preStop);
    }
  });

  it('sets only variables the services read', () => {
    for (const deployment of deployments) {
      const schema = SCHEMAS[deployment.metadata.name];
      for (const { name } of deployment.spec.template.spec.containers[0].env ?? []) {
        expect(name in (schema?.shape ?? {}), `${deployment.metadata.name}: ${name}`).toBe(true);
      }
    }
    const sources = envSources(objects.map((o) => o.manifest));
    expect(sources.map((m) => m.metadata.name).sort()).toEqual(['xiaoyue-config', 'xiaoyue-secrets']);
    // And as each overlay renders them (the cluster overlay patches the ConfigMap).
    const rendered = overlays.flatMap((overlay) =>
      envSources(renderKustomization(join(k8sRoot, 'overlays', overlay, 'kustomization.yaml'))),
    );
    for (const manifest of [...sources, ...rendered]) {
      for (const name of Object.keys({ ...manifest.data, ...manifest.stringData })) {
        expect(anyServiceReads(name), `${manifest.metadata.name}: ${name}`).toBe(true);
      }
    }
  });

  it('autoscales the worker pools on their queue depth, and the gateway on CPU', () => {
    const scaled = objects.filter((o) => o.manifest.kind === 'ScaledObject').map((o) => o.manifest);
    const streams = Object.fromEntries(
      scaled.map((s) => [s.spec.scaleTargetRef.name, [s.spec.triggers[0].type, s.spec.triggers[0].metadata.stream]]),
    );
    const keys = redisKeys(commonEnv.shape.QUEUE_PREFIX.parse(undefined));
    expect(streams).toEqual({
      'agent-worker': ['redis-streams', keys.queueStream(queueCatalog.chat.name)],
      'tts-worker': ['redis-streams', keys.queueStream(queueCatalog.tts.name)],
    });
    for (const scaler of scaled) expect(scaler.spec.triggers[0].metadata.consumerGroup).toBe(STREAM_GROUP);
    const hpa = objects.find((o) => o.manifest.kind === 'HorizontalPodAutoscaler')?.manifest;
    expect(hpa?.spec.scaleTargetRef.name).toBe('gateway');
    const pdbs = kustomizationResources(join(k8sRoot, 'base', 'kustomization.yaml'))
      .filter((r) => r.manifest.kind === 'PodDisruptionBudget')
      .map((r) => r.manifest.metadata.name);
    expect(pdbs.sort()).toEqual(['agent-worker', 'gateway', 'tts-worker']);
  });

  it('keeps every YAML file under deploy/k8s parseable', () => {
    const count = (dir: string): number =>
      readdirSync(dir, { withFileTypes: true }).reduce(
        (n, e) => n + (e.isDirectory() ? count(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? 1 : 0),
        0,
      );
    expect(files.length).toBe(count(k8sRoot));
  });
});
