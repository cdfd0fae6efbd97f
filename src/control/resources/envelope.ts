import { toMkioTime } from '../../shared/time.js';

/** ARM-style resource id as MK.IO emits it; the resource group is literally `default`. */
export function armId(projectId: string, projectName: string, collection: string, name: string): string {
  return `/subscriptions/${projectId}/resourceGroups/default/providers/Microsoft.Media/mediaservices/${projectName}/${collection}/${name}`;
}

export interface SystemData {
  createdAt: string; createdBy: string; createdByType: 'User';
  lastModifiedAt: string; lastModifiedBy: string; lastModifiedByType: 'User';
  internalId?: string;
}

export function systemData(row: { created_at: string; created_by: string; updated_at: string; updated_by: string }, internalId?: string): SystemData {
  return {
    createdAt: toMkioTime(row.created_at), createdBy: row.created_by, createdByType: 'User',
    lastModifiedAt: toMkioTime(row.updated_at), lastModifiedBy: row.updated_by, lastModifiedByType: 'User',
    ...(internalId ? { internalId } : {}),
  };
}
