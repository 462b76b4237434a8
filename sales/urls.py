from django.urls import path

from sales import assignment_views, pipeline_views, queue_views, views

app_name = "sales"

urlpatterns = [
    path("leads/<int:pk>/qualification/", views.qualification, name="qualification"),
    path("leads/<int:pk>/reject/", views.reject, name="reject"),
    path("leads/<int:pk>/activities/", views.activity_log, name="activity-log"),
    path("leads/<int:pk>/tasks/", views.task_create, name="task-create"),
    path("tasks/", views.my_tasks, name="my-tasks"),
    path("queue/", queue_views.queue, name="queue"),
    path("queue/bulk/", queue_views.queue_bulk, name="queue-bulk"),
    path("tasks/<int:pk>/done/", views.task_done, name="task-done"),
    path("rejections/", views.rejections, name="rejections"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/reasons/new/", views.reason_edit, name="reason-create"),
    path("settings/reasons/<int:pk>/", views.reason_edit, name="reason-edit"),
    path("leads/<int:pk>/reassign/", assignment_views.reassign, name="reassign"),
    path("assignment/", assignment_views.overview, name="assignment"),
    path("assignment/teams/new/", assignment_views.team_edit, name="team-create"),
    path("assignment/teams/<int:pk>/", assignment_views.team_edit, name="team-edit"),
    path("assignment/rules/new/", assignment_views.rule_edit, name="rule-create"),
    path("assignment/rules/<int:pk>/", assignment_views.rule_edit, name="rule-edit"),
    path("assignment/me/", assignment_views.rep_edit, name="rep-me"),
    path("assignment/reps/<int:user_id>/", assignment_views.rep_edit, name="rep-edit"),
    path("notifications/", assignment_views.notification_list, name="notifications"),
    path("notifications/badge/", assignment_views.notification_badge, name="notification-badge"),
    path("pipeline/", pipeline_views.board, name="pipeline"),
    path("leads/<int:pk>/convert/", pipeline_views.convert, name="convert"),
    path("opportunities/<int:pk>/move/", pipeline_views.move, name="opportunity-move"),
    path("opportunities/<int:pk>/close/", pipeline_views.close, name="opportunity-close"),
]
