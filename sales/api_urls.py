from django.urls import path

from sales import api, assignment_api, pipeline_api

urlpatterns = [
    path("leads/reassign/", assignment_api.LeadsReassignApi.as_view(), name="api-leads-reassign"),
    path(
        "leads/<int:pk>/assignments/",
        assignment_api.LeadAssignmentsApi.as_view(),
        name="api-lead-assignments",
    ),
    path("teams/", assignment_api.TeamListApi.as_view(), name="api-teams"),
    path("teams/<int:pk>/", assignment_api.TeamDetailApi.as_view(), name="api-team"),
    path("team-load/", assignment_api.TeamLoadApi.as_view(), name="api-team-load"),
    path("assignment-rules/", assignment_api.RuleListApi.as_view(), name="api-assignment-rules"),
    path(
        "assignment-rules/<int:pk>/",
        assignment_api.RuleDetailApi.as_view(),
        name="api-assignment-rule",
    ),
    path("reps/me/profile/", assignment_api.RepProfileApi.as_view(), name="api-my-profile"),
    path(
        "reps/<int:user_id>/profile/",
        assignment_api.RepProfileApi.as_view(),
        name="api-rep-profile",
    ),
    path("notifications/", assignment_api.NotificationListApi.as_view(), name="api-notifications"),
    path(
        "notifications/read/",
        assignment_api.NotificationReadApi.as_view(),
        name="api-notifications-read",
    ),
    path(
        "leads/<int:pk>/qualification/",
        api.LeadQualificationApi.as_view(),
        name="api-lead-qualification",
    ),
    path(
        "leads/<int:pk>/qualification/accept/",
        api.LeadQualificationAcceptApi.as_view(),
        name="api-lead-qualification-accept",
    ),
    path(
        "leads/<int:pk>/qualification/reject/",
        api.LeadQualificationRejectApi.as_view(),
        name="api-lead-qualification-reject",
    ),
    path(
        "qualification-policy/",
        api.QualificationPolicyApi.as_view(),
        name="api-qualification-policy",
    ),
    path("rejection-reasons/", api.RejectionReasonListApi.as_view(), name="api-rejection-reasons"),
    path(
        "rejection-reasons/<int:pk>/",
        api.RejectionReasonDetailApi.as_view(),
        name="api-rejection-reason",
    ),
    path(
        "rejections/by-campaign/",
        api.RejectionSummaryApi.as_view(),
        name="api-rejections-by-campaign",
    ),
    path("activities/", api.ActivityListCreateApi.as_view(), name="api-activities"),
    path("activities/<int:pk>/", api.ActivityDetailApi.as_view(), name="api-activity"),
    path("activities/<int:pk>/complete/", api.TaskDoneApi.as_view(), name="api-activity-complete"),
    path("activities/<int:pk>/reopen/", api.TaskReopenApi.as_view(), name="api-activity-reopen"),
    path("opportunities/", pipeline_api.OpportunityListApi.as_view(), name="api-opportunities"),
    path(
        "opportunities/<int:pk>/",
        pipeline_api.OpportunityDetailApi.as_view(),
        name="api-opportunity",
    ),
    path(
        "opportunities/<int:pk>/move/",
        pipeline_api.OpportunityMoveApi.as_view(),
        name="api-opportunity-move",
    ),
    path(
        "opportunities/<int:pk>/won/",
        pipeline_api.OpportunityWonApi.as_view(),
        name="api-opportunity-won",
    ),
    path(
        "opportunities/<int:pk>/lost/",
        pipeline_api.OpportunityLostApi.as_view(),
        name="api-opportunity-lost",
    ),
    path("leads/<int:pk>/convert/", pipeline_api.LeadConvertApi.as_view(), name="api-lead-convert"),
    path(
        "pipeline-stages/", pipeline_api.PipelineStageListApi.as_view(), name="api-pipeline-stages"
    ),
    path("lost-reasons/", pipeline_api.LostReasonListApi.as_view(), name="api-lost-reasons"),
]
