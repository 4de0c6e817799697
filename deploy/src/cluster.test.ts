import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonEnv, partitionNames, queueCatalog, redisKeys, redisTopologyFrom, STREAM_GROUP } from '@xiaoyue/shared';
import { describe, expect, it } from 'vitest';
import { k8sRoot, type Manifest, parseYamlDocuments, renderKustomization } from './manifests.js';
import { validate } from './models.js';

const overlayDir = join(k8sRoot, 'overlays', 'cluster');
const overlay = renderKustomization(join(overlayDir, 'kustomization.yaml'));
const [kustomization] = parseYamlDocuments(readFileSync(join(overlayDir, 'kustomization.yaml'), 'utf8'));
const find = (kind: string, name: string) => {
  const found = overlay.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`the cluster overlay has no ${kind}/${name}`);
  return found;
};

const config = find('ConfigMap', 'xiaoyue-config').data as Record<string, string>;
const statefulSet = find('StatefulSet', 'redis-cluster');
const service = find('Service', statefulSet.spec.serviceName);
const scripts = find('ConfigMap', 'redis-cluster-scripts').data as Record<string, string>;
const job = find('Job', 'redis-cluster-create');
const podLabels = statefulSet.spec.template.metadata.labels;

/** A queue's partitions' streams, named as the services name them (`partitionNames`, `keys.queueStream`). */
function partitionStreams(prefix: string, queue: string, partitions: number): string[] {
  return partitionNames(queue, partitions).map((partition) => redisKeys(prefix).queueStream(partition));
}

/** host:port → [pod ordinal, the rest of the host after `<statefulset>-<ordinal>.`]. */
function podAddress(address: string): { ordinal: number; domain: string; port: string } {
  const match = /^redis-cluster-(\d+)\.(.+):(\d+)$/.exec(address);
  if (!match) throw new Error(`${address} is not a redis-cluster pod`);
  return { ordinal: Number(match[1]), domain: match[2] as string, port: match[3] as string };
}

describe('the cluster overlay (deploy/k8s/overlays/cluster)', () => {
  it.each(overlay.map((m) => [`${m.kind}/${m.metadata.name}`, m]))('renders %s valid', (_name, manifest) => {
    expect(() => validate(manifest as Manifest)).not.toThrow();
  });

  it('gives the services exactly one Redis topology: the cluster', () => {
    const topologies = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'].filter((name) => name in config);
    expect(topologies).toEqual(['REDIS_CLUSTER_NODES']);
    const topology = redisTopologyFrom(commonEnv.parse(config));
    expect(topology.kind).toBe('cluster');
    // Every seed node is a pod of the StatefulSet, by its name under the headless Service.
    for (const node of config.REDIS_CLUSTER_NODES?.split(',') ?? []) {
      const { ordinal, domain, port } = podAddress(node);
      expect(ordinal).toBeLessThan(statefulSet.spec.replicas);
      expect(domain).toBe(service.metadata.name);
      expect(port).toBe('6379');
    }
    expect(Number(config.QUEUE_PARTITIONS)).toBeGreaterThan(1);
  });

  it('scales each worker pool on the sum of its queue partitions, one redis-cluster-streams trigger each', () => {
    const partitions = Number(config.QUEUE_PARTITIONS);
    const prefix = config.QUEUE_PREFIX ?? commonEnv.shape.QUEUE_PREFIX.parse(undefined);
    const pools = { 'agent-worker': queueCatalog.chat, 'tts-worker': queueCatalog.tts };
    for (const [pool, queue] of Object.entries(pools)) {
      expect(queue.consumer).toBe(pool);
      expect(queue.transport).toBe('stream');
      const scaled = find('ScaledObject', pool);
      expect(scaled.spec.scaleTargetRef.name).toBe(pool);
      const triggers = scaled.spec.triggers as Manifest[];
      expect(triggers.map((t) => t.type)).toEqual(Array(partitions).fill('redis-cluster-streams'));
      expect(triggers.map((t) => t.metadata.stream)).toEqual(partitionStreams(prefix, queue.name, partitions));
      for (const trigger of triggers) {
        // The stream's length: waiting and running jobs (done entries are deleted at once).
        expect(Number(trigger.metadata.streamLength)).toBeGreaterThan(0);
        expect(trigger.metadata.consumerGroup).toBe(STREAM_GROUP);
        // KEDA dials from its own namespace: the nodes by their names in this overlay's namespace.
        for (const address of trigger.metadata.addresses.split(',')) {
          const { ordinal, domain } = podAddress(address);
          expect(ordinal).toBeLessThan(statefulSet.spec.replicas);
          expect(domain).toBe(`${service.metadata.name}.${kustomization?.namespace}.svc`);
        }
      }
      // The composite metric adds up every trigger, each once.
      const modifiers = scaled.spec.advanced.scalingModifiers;
      const names = triggers.map((t) => t.name);
      expect(new Set(names).size).toBe(partitions);
      expect(modifiers.formula.split('+').map((term: string) => term.trim())).toEqual(names);
      expect(modifiers.metricType).toBe('AverageValue');
      expect(Number(modifiers.target)).toBeGreaterThan(0);
    }
  });

  it('deploys the Redis Cluster: 6 nodes with the cluster flags, kept apart and disrupted one at a time', () => {
    expect(statefulSet.spec.replicas).toBe(6);
    expect(statefulSet.spec.podManagementPolicy).toBe('Parallel');
    const [container] = statefulSet.spec.template.spec.containers;
    expect(container.image).toMatch(/^redis:7/);
    const start = scripts[container.command.at(-1).replace('/scripts/', '')] as string;
    for (const flag of [
      '--cluster-enabled yes',
      '--cluster-node-timeout 5000',
      '--appendonly yes',
      '--appendfsync everysec',
      '--maxmemory-policy noeviction',
      '--cluster-preferred-endpoint-type hostname',
    ]) {
      expect(start).toContain(flag);
    }
    // The announced hostname is the pod's name under the headless Service, in its namespace.
    expect(start).toContain(`--cluster-announce-hostname "$POD_NAME.${service.metadata.name}.$POD_NAMESPACE.svc"`);
    expect(start).toContain('--cluster-config-file "$CONF"');
    expect(start).toMatch(/^CONF=\/data\/nodes.conf$/m);
    const mounts = container.volumeMounts.map((m: Manifest) => m.mountPath);
    expect(mounts).toContain('/data');
    expect(statefulSet.spec.volumeClaimTemplates[0].metadata.name).toBe('data');

    const [antiAffinity] =
      statefulSet.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    expect(antiAffinity.topologyKey).toBe('kubernetes.io/hostname');
    expect(antiAffinity.labelSelector.matchLabels).toEqual(podLabels);

    expect(container.readinessProbe.exec.command.join(' ')).toContain('/scripts/ready.sh');
    expect(scripts['ready.sh']).toContain('cluster_state:ok');
    expect(container.livenessProbe).toBeDefined();

    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.publishNotReadyAddresses).toBe(true);
    expect(service.spec.selector).toEqual(podLabels);

    const pdb = find('PodDisruptionBudget', 'redis-cluster');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(podLabels);
  });

  it('forms the cluster with a Job that never touches a formed one', () => {
    const [container] = job.spec.template.spec.containers;
    const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e.value]));
    expect(Number(env.NODES)).toBe(statefulSet.spec.replicas);
    const script = scripts[container.command.at(-1).replace('/scripts/', '')] as string;
    const lines = script.split('\n');
    const create = lines.findIndex((line) => line.includes('--cluster create'));
    expect(lines[create]).toMatch(/--cluster-replicas 1 --cluster-yes/);
    expect(lines.filter((line) => line.includes('--cluster create'))).toHaveLength(1);
    // The guard: every node is asked whether it knows other nodes or owns slots, and the create
    // runs only in the branch where none does.
    const guard = lines.findIndex((line) => line.trim() === 'if [ -z "$formed" ]; then');
    expect(script).toContain('cluster_known_nodes');
    expect(script).toContain('cluster_slots_assigned');
    expect(guard).toBeGreaterThan(0);
    expect(create).toBeGreaterThan(guard);
    expect(lines.slice(guard, create).some((line) => /^\s*(elif|else|fi)\b/.test(line))).toBe(false);
    expect(script).toMatch(/already formed; nothing to do/);
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!kubectl)(
    'renders every overlay as `kubectl kustomize` does (specs and data)',
    () => {
      for (const name of ['dev', 'prod', 'cluster']) {
        const dir = join(k8sRoot, 'overlays', name);
        const out = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
        expect(out.status, out.stderr).toBe(0);
        const strip = (m: Manifest) => ({
          kind: m.kind,
          name: m.metadata.name,
          namespace: m.metadata.namespace,
          spec: m.spec,
          data: m.data,
          stringData: m.stringData,
        });
        const key = (m: { kind: string; name: string }) => `${m.kind}/${m.name}`;
        const byKey = (ms: Manifest[]) => ms.map(strip).sort((a, b) => key(a).localeCompare(key(b)));
        const ours = renderKustomization(join(dir, 'kustomization.yaml'));
        expect(byKey(ours), name).toEqual(byKey(parseYamlDocuments(out.stdout)));
      }
    },
    120_000,
  );
});
