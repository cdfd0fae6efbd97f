import fs from 'node:fs';
import type { Db, DialectName, ProjectProfileRow } from '../../../store/database.js';
import { ProjectRepository, type ProjectRecord } from '../../../store/project-repository.js';
import { ConflictError, BadRequestError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { findLocation, reelLocations } from '../../../shared/locations.js';
import type { StorageAccountService } from '../storage/service.js';
import type { AccountStores } from '../../../storage/account-stores.js';
import type { Logger } from '../../../shared/log.js';
import type { ProjectCreateBody, ProjectPatchBody } from './schema.js';

interface Actor {
  userId: string;
  email: string;
}

/**
 * Projects of an organization (MK.IO Management API). A new project gets what first boot gives project `default`:
 * an embedded Local storage account `local` in its own area of the first storage root, so it holds assets at once.
 * A project is deleted only while it holds no assets (its media would go with it); everything else it holds goes
 * by cascade.
 */
export class ProjectService {
  private readonly repository: ProjectRepository;

  constructor(
    db: Db,
    dialect: DialectName,
    private readonly deps: { storage: StorageAccountService; stores: AccountStores; log: Logger; forget: (name: string) => void },
  ) {
    this.repository = new ProjectRepository(db, dialect);
  }

  list(organizationId: string): Promise<ProjectRecord[]> {
    return this.repository.listOf(organizationId);
  }

  /** Another organization's project is reported as missing, never as forbidden (that would confirm it exists). */
  async get(organizationId: string, name: string): Promise<ProjectRecord> {
    const project = await this.repository.find(name);
    if (!project || project.organization_id !== organizationId) throw notFound(`Project '${name}'`);
    return project;
  }

  async exists(organizationId: string, name: string): Promise<boolean> {
    const project = await this.repository.find(name);
    return project !== undefined && project.organization_id === organizationId;
  }

  async create(organizationId: string, name: string, body: ProjectCreateBody, actor: Actor): Promise<ProjectRecord> {
    const location = findLocation(body.locationName);
    if (!location) {
      throw new BadRequestError(
        'InvalidLocation',
        `locationName '${body.locationName}' is not a location of this Reel; use one of: ${reelLocations.map((l) => l.name).join(', ')}`,
      );
    }
    // Names are unique across organizations (they stand alone in URLs): a taken name is a conflict either way.
    if (await this.repository.find(name)) throw new ConflictError('Conflict', `Project '${name}' already exists`);
    const now = new Date().toISOString();
    const project = { id: newId(), organization_id: organizationId, name, display_name: body.displayName, created_at: now };
    const profile: ProjectProfileRow = {
      project_id: project.id,
      location_name: location.name,
      is_active: 1,
      is_hidden: 0,
      payment_method_id: body.paymentMethodId ?? null,
      created_by_id: actor.userId,
      created_by: actor.email,
      updated_at: now,
    };
    try {
      await this.repository.insert(project, profile);
    } catch (error) {
      if (await this.repository.find(name)) throw new ConflictError('Conflict', `Project '${name}' already exists`);
      throw error;
    }
    this.deps.forget(name);
    try {
      await this.addLocalStorage(project.id, name, actor);
    } catch (error) {
      // No half-made project: without its storage it could not hold assets as the caller expects.
      await this.repository.deleteUnlessHoldingAssets(project.id);
      this.deps.forget(name);
      throw error;
    }
    return this.get(organizationId, name);
  }

  async update(organizationId: string, name: string, body: ProjectPatchBody): Promise<ProjectRecord> {
    const project = await this.get(organizationId, name);
    const profile: ProjectProfileRow = { ...profileOf(project), updated_at: new Date().toISOString() };
    if (body.spec?.isActive !== undefined) profile.is_active = body.spec.isActive ? 1 : 0;
    if (body.spec?.isHidden !== undefined) profile.is_hidden = body.spec.isHidden ? 1 : 0;
    await this.repository.update(project.id, { displayName: body.metadata?.displayName, profile });
    return this.get(organizationId, name);
  }

  async delete(organizationId: string, name: string): Promise<void> {
    const project = await this.get(organizationId, name);
    const accounts = await this.deps.storage.list(project.id);
    const outcome = await this.repository.deleteUnlessHoldingAssets(project.id);
    if (outcome === 'holds-assets') {
      throw new ConflictError('ProjectInUse', `Project '${name}' still holds assets; delete them before the project`);
    }
    this.deps.forget(name);
    // The rows went by cascade; the drivers opened for them go too.
    for (const account of accounts) await this.deps.stores.drop(account.row.id);
    this.deps.log.info({ project: name, projectId: project.id }, 'project deleted');
  }

  private async addLocalStorage(projectId: string, name: string, actor: Actor): Promise<void> {
    const area = this.deps.stores.localAreas(name)[0];
    if (!area) return; // no storage roots configured: the project registers its own storage
    fs.mkdirSync(area, { recursive: true });
    await this.deps.storage.create(
      projectId,
      { name: 'local', type: 'Local', description: 'Embedded local disk storage', location: 'local', config: { path: area } },
      actor,
    );
  }
}

/** The profile a project has, or the one a project made by first boot (or before migration 008) reads as. */
export function profileOf(project: ProjectRecord): ProjectProfileRow {
  return (
    project.profile ?? {
      project_id: project.id,
      location_name: 'local',
      is_active: 1,
      is_hidden: 0,
      payment_method_id: null,
      created_by_id: null,
      created_by: null,
      updated_at: project.created_at,
    }
  );
}
