/** Event types a webhook rule may ask for: MK.IO's own (its Management API enum) and Reel's additions. */
export const mkioWebhookEventTypes = [
  'MediaKind.JobStarted',
  'MediaKind.JobFinished',
  'MediaKind.StreamingLocatorCreated',
  'MediaKind.ChannelInstanceStarted',
  'MediaKind.ChannelInstanceStopped',
  'MediaKind.ChannelInstanceError',
  'MediaKind.ScheduledOperationAccepted',
  'MediaKind.ScheduledOperationCompleted',
  'MediaKind.ScheduledOperationError',
  'MediaKind.ScheduledOperationOngoing',
] as const;

/** MK.IO has no asset events; Reel adds them so a rule can follow an asset's life (docs/MKIO-DIFFERENCES.md). */
export const reelWebhookEventTypes = ['Reel.AssetCreated', 'Reel.AssetUpdated', 'Reel.AssetDeleted'] as const;

export const webhookEventTypes = [...mkioWebhookEventTypes, ...reelWebhookEventTypes] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];
