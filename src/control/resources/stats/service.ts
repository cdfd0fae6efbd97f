import type { Db } from '../../../store/database.js';
import { ProjectStatsRepository, type ProjectCounts } from '../../../store/project-stats-repository.js';
import { predefinedPolicies } from '../../../shared/streaming-policies.js';
import type { StreamingEndpointService } from '../streaming-endpoints/service.js';

/** The project counters of `stats/`, counted as the lists count: the default endpoint and predefined policies included. */
export class StatsService {
  private readonly repository: ProjectStatsRepository;
  private readonly predefinedPolicyCount = Object.keys(predefinedPolicies).length;

  constructor(
    db: Db,
    private readonly endpoints: StreamingEndpointService,
  ) {
    this.repository = new ProjectStatsRepository(db);
  }

  async countsOf(projectId: string): Promise<ProjectCounts> {
    // Listing endpoints makes the default one on first use; counting must see what a list would show.
    await this.endpoints.ensureDefault(projectId);
    const counts = await this.repository.countsOf(projectId);
    return { ...counts, streamingPolicies: counts.streamingPolicies + this.predefinedPolicyCount };
  }
}
