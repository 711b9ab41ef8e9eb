/**
 * The inspection a user sees: graph, groups and cost in one call.
 */
import { computeCost, type ModelCost } from './cost';
import { buildGraph, type GraphOptions, type ModelGraph } from './graph';
import { analyzeGroups, type ChannelGroup, type GroupAnalysis } from './groups';
import type { LoadedModel } from './types';

export interface ModelAnalysis {
  graph: ModelGraph;
  groups: ChannelGroup[];
  groupAnalysis: GroupAnalysis;
  cost: ModelCost;
}

export function analyzeModel(model: LoadedModel, options: GraphOptions = {}): ModelAnalysis {
  const graph = buildGraph(model, options);
  const groupAnalysis = analyzeGroups(graph);
  const cost = computeCost(graph, groupAnalysis);
  return { graph, groups: groupAnalysis.groups, groupAnalysis, cost };
}
