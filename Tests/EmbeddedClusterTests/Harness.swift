import Foundation
import GantryTestSupport
import KubeCore
@testable import EmbeddedCluster

// TestCluster (kubectl, curl, waits) comes from GantryTestSupport; these server tests start it with
// `TestCluster.bare(...)`: no simulated nodes unless a test asks for them.

let trainingJobCRD = """
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: trainingjobs.gantry.dev
    spec:
      group: gantry.dev
      scope: Namespaced
      names: {plural: trainingjobs, singular: trainingjob, kind: TrainingJob, shortNames: [tj], categories: [gantry]}
      versions:
      - name: v1
        served: true
        storage: true
        subresources: {status: {}, scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}}
        additionalPrinterColumns:
        - {name: Replicas, type: integer, jsonPath: .spec.replicas}
        - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
        - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
        schema:
          openAPIV3Schema:
            type: object
            properties:
              spec:
                type: object
                properties:
                  replicas: {type: integer, minimum: 1}
                  image: {type: string}
              status:
                type: object
                x-kubernetes-preserve-unknown-fields: true

    """
