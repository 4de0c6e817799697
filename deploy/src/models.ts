import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { Manifest } from './manifests.js';

/** kind → the kubernetes-models class that validates it against the Kubernetes schemas. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Deployment,
  StatefulSet,
  Job,
  Service,
  ConfigMap,
  Secret,
  Namespace,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  ScaledObject,
};

/** Throws unless the manifest is a known kind that its Kubernetes (or KEDA) schema accepts. */
export function validate(manifest: Manifest): void {
  const Model = MODELS[manifest.kind];
  if (!Model) throw new Error(`no schema for kind ${manifest.kind}`);
  new Model(manifest as never).validate();
}
