from django.urls import path

from sales import api, pipeline_api

urlpatterns = [
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
