import GantryControllers
import KubeCore

/// How the planner tests read a plan: the objects it wants to exist and the pods it deletes.
extension TrainingJobPlan {
    var create: [JSONValue] { children.desired.map(\.object) }
    var deletePods: [String] { deletedPods }
}
